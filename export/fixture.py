"""A trained network to measure precision on: GoogLeNet fine-tuned on scikit-learn's digits, in two checkpoints.

Random weights give near-uniform logits, so agreement on them says little; and a network measured at a size
it was not trained for answers one class for everything, so agreement with it says nothing either. The
fixture is therefore two checkpoints, each right at the size it is measured at:

* ``googlenet_digits.pt``: trained from a seed at 64 px (the 8x8 digits carry no more detail than 64x64
  shows), where the tests measure, because a parity check there costs a twelfth of one at 224 px;
* ``googlenet_digits_224.pt``: the first fine-tuned at 224 px, GoogLeNet's own size, which the offline main
  job (``gnet-bench`` with ``--weights auto`` and no ImageNet weights) measures at.

One checkpoint is not right at both: BatchNorm's running statistics follow the size (a digit's edges are
3.5 times wider at 224 px), so each checkpoint fails at the other's size (``docs/fixture.md``
has the figures). Both train in about four minutes on two cores, are cached under
``artifacts/fixture/``, and record their held-out accuracy, which every report names. ``digits:train``
trains and calibrates; the held-out ``digits:eval`` split (540 digits) measures accuracy.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gnet.atomic import atomic_output
from gnet.checks.images import load_digits_set
from gnet.defaults import FIXTURE_CHECKPOINT, FIXTURE_FULL_SIZE, FIXTURE_IMAGE_SIZE, fixture_path
from gnet.errors import GnetError, first_line
from gnet.export.weights import build_googlenet, load_weights

FIXTURE_SEED = 0
MIN_ACCURACY = 0.95
MIN_FINE_TUNED_ACCURACY = 0.97
"""Guards against a training run gone wrong, set below what each checkpoint measures (``docs/fixture.md`` names the
figures): they differ slightly between CPUs, whose kernels round differently."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of the 64-px checkpoint; changing any of them changes both checkpoints."""

    image_size: int = FIXTURE_IMAGE_SIZE
    seed: int = FIXTURE_SEED
    epochs: int = 6
    batch: int = 64
    max_lr: float = 3e-3
    weight_decay: float = 1e-4


@dataclass(frozen=True)
class FineTuneConfig:
    """Hyper-parameters of the fine-tuned checkpoint: a one-cycle run at the new size with BatchNorm learning that
    size's statistics. The stem (conv1 to conv3) keeps its 64-px filters: no backward pass through its
    full-resolution maps makes a step about twice as cheap, so the same minutes buy more steps, and label
    smoothing keeps the short run from over-confident logits (docs/fixture.md has the recipes tried)."""

    image_size: int = FIXTURE_FULL_SIZE
    seed: int = FIXTURE_SEED + 1
    steps: int = 160
    batch: int = 12
    max_lr: float = 1.5e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    frozen: tuple[str, ...] = ("conv1.", "conv2.", "conv3.")  # parameter-name prefixes not trained


def fixture_available(path: str | Path = FIXTURE_CHECKPOINT) -> bool:
    """True when the trained fixture checkpoint exists."""
    return Path(path).is_file()


CACHE_ENV = "GNET_CACHE_DIR"
"""Overrides where trained checkpoints are kept for every clone on this machine (default ``$XDG_CACHE_HOME/gnet``,
else ``~/.cache/gnet``), as torchvision keeps downloaded weights under ``~/.cache/torch``."""


def cached_checkpoint(name: str) -> Path:
    """Where the checkpoint ``name`` trained by this recipe on this kind of machine is kept (:func:`recipe_key`)."""
    root = os.environ.get(CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gnet"
    return Path(root) / "fixture" / recipe_key() / name


@lru_cache(maxsize=1)
def recipe_key() -> str:
    """What decides a trained checkpoint's every bit: the code that builds, feeds and trains the network, the
    torch and scikit-learn releases, the thread count and the CPU (model, stepping and every flag). Training is
    deterministic under these (two trainings on one machine give identical weights: ``docs/fixture.md``), so a
    checkpoint cached under this key is the one a new training would write here."""
    import sklearn

    from gnet.checks import images
    from gnet.export import weights
    from gnet.system import cpu_identity

    digest = hashlib.sha256()
    for module in (images, weights):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for fact in (torch.__version__, sklearn.__version__, torch.get_num_threads(), cpu_identity()):
        digest.update(repr(fact).encode())
    return digest.hexdigest()[:16]


def restore_cached(path: str | Path) -> bool:
    """Put the cached checkpoint for ``path``'s name at ``path`` (atomically) if one is kept and is still the file
    its digest record names (:func:`gnet.export.hashing.record_matches`); False otherwise (then the caller trains)."""
    from gnet.export.hashing import record_matches

    cached = cached_checkpoint(Path(path).name)
    if not (cached.is_file() and record_matches(cached)):
        return False
    with atomic_output(path) as tmp:
        shutil.copyfile(cached, tmp)
    return True


def keep_cached(path: str | Path) -> str | None:
    """Keep a copy of the checkpoint just trained at ``path`` for later clones, with its digest record; best effort:
    why it could not be kept (a read-only home, a full disk), or None."""
    from gnet.export.hashing import write_record

    cached = cached_checkpoint(Path(path).name)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(cached) as tmp:
            shutil.copyfile(path, tmp)
        write_record(cached)
    except (OSError, GnetError) as exc:
        return f"the checkpoint was not cached in {cached.parent} ({first_line(exc, 160)})"
    return None


def _batches(count: int, batch: int, steps: int, generator: torch.Generator):
    """``steps`` index batches of ``batch``, each pass a fresh permutation whose short last batch is dropped, so
    every fine-tuning step sees a full batch."""
    done = 0
    while done < steps:
        order = torch.randperm(count, generator=generator)
        for first in range(0, count - batch + 1, batch):
            if done == steps:
                return
            yield order[first:first + batch]
            done += 1


def _train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batches: list[torch.Tensor],
           steps: int, lr: float, weight_decay: float, log, label: str, label_smoothing: float = 0.0) -> None:
    """AdamW with a one-cycle schedule over ``steps`` batches (``batches``: the index batches, in order)."""
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    model.train()
    start, total, seen = time.monotonic(), 0.0, 0
    for step, idx in enumerate(batches, 1):
        loss = F.cross_entropy(model(x[idx]), y[idx], label_smoothing=label_smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        total, seen = total + loss.item() * len(idx), seen + len(idx)
        if seen >= len(x) or step == steps:
            log(f"{label}: step {step}/{steps}, loss {total / seen:.4f} ({time.monotonic() - start:.0f} s)")
            total, seen = 0.0, 0
    model.eval()


def _inputs(split: str, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    # Channels-last: oneDNN trains GoogLeNet faster on a CPU this way (docs/fixture.md; numerics depend on it).
    images = load_digits_set(split, size)
    return torch.from_numpy(images.data).contiguous(memory_format=torch.channels_last), torch.from_numpy(images.labels)


def held_out_accuracy(model: torch.nn.Module, image_size: int) -> tuple[float, int]:
    """(accuracy, distinct classes answered) on the 540 held-out digits at ``image_size``; channels-last, as trained
    (faster than NCHW: docs/fixture.md), and the model handed back as it came."""
    held_out = load_digits_set("eval", image_size)
    model = model.eval().to(memory_format=torch.channels_last)
    answers = []
    with torch.inference_mode():
        for start in range(0, len(held_out.data), 64):
            batch = torch.from_numpy(held_out.data[start:start + 64]).contiguous(memory_format=torch.channels_last)
            answers.append(model(batch).argmax(1).numpy())
    model.to(memory_format=torch.contiguous_format)
    found = np.concatenate(answers)
    return float(np.mean(found == held_out.labels)), int(np.unique(found).size)


def _record(model: torch.nn.Module, image_size: int, seed: int, seconds: float, log, minimum: float = MIN_ACCURACY,
            **extra) -> dict:
    """The checkpoint's dict, refused (nothing written) unless it is right at ``image_size``."""
    accuracy, classes = held_out_accuracy(model, image_size)
    log(f"held-out accuracy at {image_size} px: {accuracy:.2%}, {classes} of 10 classes answered")
    if accuracy < minimum or classes < 10:
        raise GnetError(f"the {image_size}-px fixture reached only {accuracy:.2%} held-out accuracy with "
                        f"{classes} of 10 classes answered (needs {minimum:.0%} and all 10)",
                        remedy="nothing was written")
    return {"state_dict": model.state_dict(), "num_classes": 10, "class_names": [str(d) for d in range(10)],
            "image_size": image_size, "dataset": "digits", "transform_input": False, "seed": seed,
            "held_out_accuracy": accuracy, "held_out_classes": classes, "train_seconds": round(seconds, 1), **extra}


def _save(record: dict, path: str | Path) -> None:
    buffer = io.BytesIO()  # serialised first, so a full disk is an OSError the atomic write turns into a sentence
    torch.save(record, buffer)
    with atomic_output(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def train_fixture(path: str | Path = FIXTURE_CHECKPOINT, config: TrainConfig = TrainConfig(), log=print) -> dict:
    """Train the 64-px checkpoint from a seed, check its held-out accuracy, and write it atomically."""
    torch.manual_seed(config.seed)
    start = time.monotonic()
    x, y = _inputs("train", config.image_size)
    model = build_googlenet(num_classes=10)
    steps_per_epoch = -(-len(x) // config.batch)
    generator = torch.Generator().manual_seed(config.seed)
    batches = [torch.randperm(len(x), generator=generator)[first:first + config.batch]
               for _ in range(config.epochs) for first in range(0, len(x), config.batch)]
    _train(model, x, y, batches, config.epochs * steps_per_epoch, config.max_lr, config.weight_decay, log,
           f"{config.image_size} px")
    record = _record(model, config.image_size, config.seed, time.monotonic() - start, log, epochs=config.epochs)
    _save(record, path)
    return record


def fine_tune_fixture(source: str | Path = FIXTURE_CHECKPOINT, path: str | Path | None = None,
                      config: FineTuneConfig = FineTuneConfig(), log=print) -> dict:
    """Fine-tune the checkpoint at ``source`` at ``config.image_size``, check it there, and write it atomically
    (beside the source, ``googlenet_digits_224.pt``, unless ``path``)."""
    torch.manual_seed(config.seed)
    start = time.monotonic()
    model = load_weights(str(source)).model  # a corrupt or NaN checkpoint is one sentence there
    x, y = _inputs("train", config.image_size)
    batches = list(_batches(len(x), config.batch, config.steps, torch.Generator().manual_seed(config.seed)))
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(not name.startswith(config.frozen))
    _train(model, x, y, batches, config.steps, config.max_lr, config.weight_decay, log, f"{config.image_size} px",
           config.label_smoothing)
    model.requires_grad_(True)
    record = _record(model, config.image_size, config.seed, time.monotonic() - start, log, MIN_FINE_TUNED_ACCURACY,
                     fine_tuned_from=Path(source).name, steps=config.steps)
    destination = path or fixture_path(config.image_size, Path(source))
    _save(record, destination)
    return record
