"""Graph-level folds done in PyTorch before export, so the ONNX carries none of the extra ops.

* BatchNorm is folded into the preceding convolution of every ``BasicConv2d``.
* torchvision's ``transform_input`` (a per-channel affine map from ImageNet
  normalisation to the ``[-1, 1]`` range the original weights were trained on)
  is folded into ``conv1``. A plain weight/bias fold is *not* exact: ``conv1``
  zero-pads the transformed input, while the folded conv would zero-pad the
  untransformed one, so the two differ along the border. The exact fold keeps
  the scaled weights and replaces the bias by a constant map of the conv's
  output size, whose interior equals the usual folded bias and whose border
  carries the padding correction. In ONNX that is one Conv and one Add of a
  constant, which ONNX Runtime and TensorRT fuse into the convolution.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models import GoogLeNet
from torchvision.models.googlenet import BasicConv2d

from gnet.checks.images import IMAGENET_MEAN, IMAGENET_STD
from gnet.export.weights_checks import check_finite


def transform_input_affine() -> tuple[torch.Tensor, torch.Tensor]:
    """The (scale, shift) per channel that torchvision's ``_transform_input`` applies."""
    mean = torch.tensor(IMAGENET_MEAN)
    std = torch.tensor(IMAGENET_STD)
    return std / 0.5, (mean - 0.5) / 0.5


class ConvWithBiasMap(nn.Module):
    """A convolution followed by the addition of a constant ``[1, C, H, W]`` map."""

    def __init__(self, conv: nn.Conv2d, bias_map: torch.Tensor) -> None:
        super().__init__()
        self.conv = conv
        self.register_buffer("bias_map", bias_map)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + self.bias_map


def fold_batchnorm(model: GoogLeNet) -> GoogLeNet:
    """Fold each ``BasicConv2d``'s BatchNorm into its convolution, in place (eval mode only)."""
    for module in model.modules():
        if isinstance(module, BasicConv2d) and isinstance(module.bn, nn.BatchNorm2d):
            module.conv = fuse_conv_bn_eval(module.conv, module.bn)
            module.bn = nn.Identity()
    return model


def fold_transform_input(model: GoogLeNet, image_size: int) -> GoogLeNet:
    """Fold ``transform_input`` into ``conv1`` exactly (see the module docstring), in place.

    Call after :func:`fold_batchnorm`, so ``conv1.conv`` carries a bias.
    """
    if not model.transform_input:
        return model
    conv = model.conv1.conv
    scale, shift = transform_input_affine()
    weight = conv.weight.detach()
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros(weight.shape[0])
    with torch.no_grad():
        # conv(pad0(a*x + b)) = conv_{W*a}(pad0(x)) + conv_W(pad0(b * ones)): the second term is a constant.
        shifted = shift.view(1, 3, 1, 1).expand(1, 3, image_size, image_size).to(weight.dtype)
        bias_map = F.conv2d(shifted, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
        folded = nn.Conv2d(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
            conv.dilation, conv.groups, bias=False,
        )
        folded.weight.copy_(weight * scale.view(1, 3, 1, 1).to(weight.dtype))
    model.conv1.conv = ConvWithBiasMap(folded, bias_map)
    model.transform_input = False
    return model


def deployable(model: GoogLeNet, image_size: int, where: str = "the weights") -> GoogLeNet:
    """An eval-mode copy of ``model`` with BatchNorm and ``transform_input`` folded away.

    Finite weights can still fold into NaN (a negative BatchNorm running variance, statistics that
    overflow when multiplied in): the folded tensors are checked too, naming the first bad one.
    """
    folded = copy.deepcopy(model).eval()
    fold_batchnorm(folded)
    fold_transform_input(folded, image_size)
    check_finite({**dict(folded.named_parameters()), **dict(folded.named_buffers())}, where,
                 after="folding BatchNorm into the convolutions")
    return folded
