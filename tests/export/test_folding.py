import copy

import torch
import torch.nn.functional as F

from gnet.export.folding import deployable, fold_batchnorm, transform_input_affine
from gnet.export.weights import build_googlenet, live_init
from tests.helpers.models import randomize_batchnorm


def _stem(model, x):
    """Output of conv1 (conv + BN + ReLU) after torchvision's own input transform."""
    return model.conv1(model._transform_input(x))


def _trained_like(seed: int = 0):
    """transform_input=True with larger conv1 weights, as trained nets have, so border effects are visible."""
    torch.manual_seed(seed)
    model = live_init(build_googlenet(num_classes=1000, transform_input=True))
    randomize_batchnorm(model, seed)
    with torch.no_grad():
        model.conv1.conv.weight.normal_(0.0, 0.2)
    return model


def test_batchnorm_fold_matches_unfolded():
    model = _trained_like(1)
    model.transform_input = False
    folded = fold_batchnorm(copy.deepcopy(model))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        ref, got = model(x), folded(x)
    assert (ref - got).abs().max() / ref.abs().max() < 1e-5


def test_transform_input_fold_is_exact_including_the_border():
    model = _trained_like(2)
    folded = deployable(model, 224)
    assert folded.transform_input is False
    x = torch.randn(3, 3, 224, 224)
    with torch.no_grad():
        ref_stem = _stem(model, x)
        got_stem = folded.conv1(x)
        assert torch.allclose(ref_stem, got_stem, atol=1e-4), (ref_stem - got_stem).abs().max()
        ref, got = model(x), folded(x)
    assert ref.std(dim=0).mean() > 0.1  # live logits, so the comparison can fail
    assert (ref - got).abs().max() / ref.abs().max() < 1e-5
    assert torch.equal(ref.argmax(1), got.argmax(1))


def test_naive_weight_fold_would_be_wrong_on_the_border():
    """Why the bias map exists: folding only into weights and bias changes the padded border."""
    model = fold_batchnorm(copy.deepcopy(_trained_like(3)))
    conv = model.conv1.conv
    scale, shift = transform_input_affine()
    w = conv.weight.detach()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        exact = conv(model._transform_input(x))
        naive = F.conv2d(x, w * scale.view(1, 3, 1, 1), conv.bias + (w * shift.view(1, 3, 1, 1)).sum((1, 2, 3)),
                         conv.stride, conv.padding)
    border = (exact - naive).abs()
    assert border[..., 2:-1, 2:-1].max() < 1e-4  # the interior agrees
    assert border.max() > 1e-2  # the border does not
