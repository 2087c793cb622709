"""Seeded models and sizes the tests share."""

from __future__ import annotations

import torch

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
