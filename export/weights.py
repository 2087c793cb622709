"""Where GoogLeNet's weights come from: torchvision's ImageNet weights, a checkpoint file, or a seed.

Every source resolves to a :class:`LoadedModel`: a torchvision ``GoogLeNet`` in
eval mode with its auxiliary heads stripped, plus what the artifacts must record
about it (a readable name for the weights, their SHA-256, class names).
"""

from __future__ import annotations

import socket
import urllib.error
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torchvision.models import GoogLeNet, GoogLeNet_Weights, googlenet

from gnet.errors import GnetError, NotAvailable, UsageError, first_line
from gnet.export.hashing import sha256_file, sha256_state_dict
from gnet.export.weights_checks import check_classes, check_finite, checkpoint_fields

IMAGENET_WEIGHTS = GoogLeNet_Weights.IMAGENET1K_V1
AUX_PREFIXES = ("aux1.", "aux2.")
# Checkpoint dicts written by common training loops keep the weights under one of these keys.
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
DOWNLOAD_TIMEOUT_S = 15.0


@dataclass
class LoadedModel:
    """A ready-to-export GoogLeNet and the facts about its weights."""

    model: GoogLeNet
    spec: str  # how to load these weights again: "imagenet", "random:SEED" or an absolute path
    weights: str  # what a report prints: "imagenet (IMAGENET1K_V1)", "random (seed 0)", "file:ckpt.pth"
    weights_sha256: str
    num_classes: int
    transform_input: bool
    class_names: list[str] | None = None
    image_size: int | None = None  # the size the weights were trained for, when a checkpoint says so
    dataset: str | None = None  # "digits" for gnet's own fixture checkpoints
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        """False for seeded random weights, whose near-tie logits make top-1 agreement meaningless."""
        return not self.spec.startswith("random")


def build_googlenet(num_classes: int = 1000, transform_input: bool = False) -> GoogLeNet:
    """torchvision's GoogLeNet without auxiliary heads, in eval mode."""
    model = googlenet(
        weights=None,
        aux_logits=False,
        init_weights=True,
        num_classes=num_classes,
        transform_input=transform_input,
    )
    return model.eval()


def imagenet_cache_path() -> Path:
    """Where torch.hub keeps torchvision's ImageNet checkpoint for GoogLeNet."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(IMAGENET_WEIGHTS.url).name


def imagenet_available() -> bool:
    """True when torchvision's ImageNet weights are in the local cache (no network needed)."""
    return imagenet_cache_path().is_file()


def load_imagenet(allow_download: bool = True) -> LoadedModel:
    """torchvision's IMAGENET1K_V1 weights (with ``transform_input=True``, as torchvision builds it)."""
    path = imagenet_cache_path()
    if not path.is_file():
        if not allow_download:
            raise NotAvailable(
                f"torchvision's ImageNet weights for GoogLeNet are not cached at {path}",
                remedy="pass --weights PATH or --weights random instead",
            )
        _download(IMAGENET_WEIGHTS.url, path)
    state = _torch_load(path)
    model = build_googlenet(num_classes=1000, transform_input=True)
    _load_strict(model, _drop_aux(state), str(path))
    return LoadedModel(
        model=model,
        spec="imagenet",
        weights="imagenet (torchvision GoogLeNet_Weights.IMAGENET1K_V1)",
        weights_sha256=sha256_file(path),
        num_classes=1000,
        transform_input=True,
        class_names=list(IMAGENET_WEIGHTS.meta["categories"]),
        image_size=224,
    )


def _download(url: str, path: Path) -> None:
    """Download ``url`` into the torch.hub cache, failing fast with one sentence when offline."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(path), progress=True)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise NotAvailable(
            f"cannot download torchvision's ImageNet weights from {url}", str(reason),
            "with no network, pass --weights PATH to a local checkpoint or --weights random --seed N",
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def live_init(model: GoogLeNet) -> GoogLeNet:
    """He-normal convolutions and a unit-variance classifier, so activations stay alive through 57 layers.

    torchvision's own initialisation (truncated normal, std 0.01) shrinks the
    signal layer after layer: the logits end up equal to ``fc.bias`` for every
    image, and any parity comparison on them passes trivially.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(module, torch.nn.Linear):
                torch.nn.init.normal_(module.weight, std=module.in_features ** -0.5)
                torch.nn.init.zeros_(module.bias)
    return model


def load_random(seed: int = 0, num_classes: int = 1000, transform_input: bool = False) -> LoadedModel:
    """Seeded random weights with live activations (:func:`live_init`), reproducible for a given seed."""
    torch.manual_seed(seed)
    model = live_init(build_googlenet(num_classes=num_classes, transform_input=transform_input))
    return LoadedModel(
        model=model,
        spec=f"random:{seed}",
        weights=f"random (seed {seed})",
        weights_sha256=sha256_state_dict(model.state_dict()),
        num_classes=num_classes,
        transform_input=transform_input,
    )


def load_checkpoint(path: str | Path, transform_input: bool | None = None) -> LoadedModel:
    """A state_dict or a checkpoint dict, with or without ``aux1.*``/``aux2.*`` keys.

    ``num_classes`` is read from ``fc.weight``. ``transform_input`` comes from the
    argument, else from the checkpoint's own record, else False (torchvision's
    default when it is not given ImageNet weights).
    """
    file = Path(path)
    if not file.exists():
        raise GnetError(f"weights file {file} does not exist")
    if not file.is_file():
        raise GnetError(f"weights path {file} is not a file")
    raw = _torch_load(file)
    meta: dict[str, Any] = {}
    state = raw
    if isinstance(raw, dict):
        for key in STATE_DICT_KEYS:
            if isinstance(raw.get(key), dict):
                meta = {k: v for k, v in raw.items() if k != key}
                state = raw[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise GnetError(f"{file} is not a GoogLeNet checkpoint", "it holds no state_dict of tensors")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    fc = state.get("fc.weight")
    if fc is None or fc.dim() != 2:
        raise GnetError(f"{file} is not a GoogLeNet checkpoint", "it has no 2-D 'fc.weight'")
    num_classes = int(fc.shape[0])
    check_classes(num_classes, str(file))
    fields = checkpoint_fields(meta, num_classes, str(file))
    if transform_input is None:
        transform_input = bool(fields.transform_input)
    model = build_googlenet(num_classes=num_classes, transform_input=transform_input)
    _load_strict(model, _drop_aux(state), str(file))
    return LoadedModel(
        model=model,
        spec=str(file.resolve()),
        weights=f"file:{file}",
        weights_sha256=sha256_file(file),
        num_classes=num_classes,
        transform_input=transform_input,
        class_names=fields.class_names,
        image_size=fields.image_size,
        dataset=fields.dataset,
        extra={k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))},
    )


def load_weights(spec: str, seed: int = 0, transform_input: bool | None = None) -> LoadedModel:
    """Resolve ``--weights``: ``imagenet``, ``random`` (with ``seed``), ``random:SEED`` or a path."""
    if spec == "imagenet":
        return load_imagenet()
    if spec == "random" or spec.startswith("random:"):
        if spec.startswith("random:"):
            try:
                seed = int(spec.split(":", 1)[1])
            except ValueError:
                raise UsageError(f"--weights {spec}", "the seed after 'random:' must be an integer") from None
        return load_random(seed=seed, transform_input=bool(transform_input))
    return load_checkpoint(spec, transform_input=transform_input)


def _torch_load(path: Path) -> Any:
    try:
        with warnings.catch_warnings():  # torch warns beside its own error; gnet says one sentence instead
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean "unreadable"
        raise GnetError(f"cannot read weights file {path}",
                        f"it is corrupt or not a PyTorch checkpoint ({first_line(exc, 160)})") from None


def _drop_aux(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in state.items() if not k.startswith(AUX_PREFIXES)}


def _load_strict(model: GoogLeNet, state: dict[str, torch.Tensor], where: str) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
        if wrong:
            parts.append(f"{len(wrong)} shape mismatches (e.g. {wrong[0]})")
        raise GnetError(f"{where} is not a torchvision GoogLeNet checkpoint", ", ".join(parts))
    check_finite(state, where)
    model.load_state_dict(state, strict=True)


def torch_logits(model: nn.Module, data: np.ndarray, batch: int = 32) -> np.ndarray:
    """Run an eval-mode model on float32 NCHW ``data`` on the CPU; float32 ``[N, classes]``."""
    model = model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(data), batch):
            out = model(torch.from_numpy(np.ascontiguousarray(data[start:start + batch])))
            outputs.append(out.float().numpy())
    return np.concatenate(outputs)
