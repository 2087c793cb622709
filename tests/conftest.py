"""Shared fixtures: seeded models, checkpoints gnet makes itself, and real packaged images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gnet.export.images import load_packaged_photos
from gnet.export.weights import build_googlenet, live_init

SMALL = 96  # image size for tests that do not need 224 (GoogLeNet accepts any size >= 32)


def randomize_batchnorm(model: torch.nn.Module, seed: int) -> None:
    """Give BatchNorm non-trivial statistics so folding it is really exercised."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=gen) * 0.2 - 0.1)
                module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                module.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                module.bias.copy_(torch.rand(n, generator=gen) * 0.2 - 0.1)


@pytest.fixture(scope="session")
def aux_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint dict that still holds aux1/aux2 weights, with 1000 classes, as training scripts save it."""
    torch.manual_seed(7)
    from torchvision.models import googlenet

    model = live_init(googlenet(weights=None, aux_logits=True, init_weights=True))
    randomize_batchnorm(model, 7)
    path = tmp_path_factory.mktemp("ckpt") / "googlenet_with_aux.pth"
    torch.save({"epoch": 3, "state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="session")
def photos_224():
    return load_packaged_photos(224)


@pytest.fixture(scope="session")
def photos_small():
    return load_packaged_photos(SMALL)


@pytest.fixture()
def image_folder(tmp_path: Path) -> Path:
    """An ImageFolder-style tree of real photos (two classes) in mixed formats."""
    import skimage.data

    root = tmp_path / "images"
    for cls, names in {"cat": ["chelsea", "coffee"], "space": ["rocket", "astronaut", "hubble_deep_field"]}.items():
        (root / cls).mkdir(parents=True)
        for i, name in enumerate(names):
            suffix = [".png", ".jpg", ".bmp"][i % 3]
            Image.fromarray(np.asarray(getattr(skimage.data, name)())).save(root / cls / f"{name}{suffix}")
    return root


@pytest.fixture(scope="session")
def small_model():
    torch.manual_seed(3)
    model = live_init(build_googlenet(num_classes=10))
    randomize_batchnorm(model, 3)
    return model
