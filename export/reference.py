"""PyTorch FP32 reference logits: what every artifact is compared against."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def torch_logits(model: nn.Module, data: np.ndarray, batch: int = 32) -> np.ndarray:
    """Run an eval-mode model on float32 NCHW ``data`` on the CPU; float32 ``[N, classes]``."""
    model = model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(data), batch):
            out = model(torch.from_numpy(np.ascontiguousarray(data[start:start + batch])))
            outputs.append(out.float().numpy())
    return np.concatenate(outputs)
