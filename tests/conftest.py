"""Shared fixtures: seeded models, checkpoints gnet makes itself, real packaged images, and the trained fixture's
exports (FP32, FP16 and both INT8 graphs at 64 px, made once per session and shared by the export tests and the
real-TensorRT-RTX engine tests: each export takes a while on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gnet.checks.images import load_packaged_photos
from gnet.defaults import ARTIFACT_NAMES, FRAME_INPUT, artifact_name, kind_precision
from gnet.export.api import export_model
from gnet.export.weights import build_googlenet, live_init
from gnet.precision.calibration import CalibrationSettings
from tests.helpers import cpu
from tests.helpers.bench import bench_artifacts
from tests.helpers.fixture import fixture_checkpoint
from tests.helpers.models import SMALL, randomize_batchnorm

pytest_plugins = ["tests.trt_double.fixtures"]  # trt, trt10, fake_device: the strict TensorRT double


def pytest_configure(config: pytest.Config) -> None:
    cpu.kind_from_environment()  # an unknown GNET_TEST_CPU stops the run here, in one line, before any test


@pytest.fixture(scope="session", autouse=True)
def private_checkpoint_cache(tmp_path_factory: pytest.TempPathFactory):
    """No test reads or writes the user's cache of trained checkpoints (~/.cache/gnet)."""
    from gnet.export.fixture import CACHE_ENV

    mp = pytest.MonkeyPatch()
    mp.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("gnet-cache")))
    yield
    mp.undo()


def pytest_report_header() -> str:
    kind = cpu.kind_from_environment()
    faked = f"; faked as {kind.name} by {cpu.ENV}" if kind else f" (set {cpu.ENV}=avx2|avx512-vnni-bf16 to fake one)"
    from gnet.system import cpu_model, vector_extensions

    return f"CPU: {cpu_model()} ({vector_extensions()}){faked}"


@pytest.fixture(scope="session", autouse=True)
def cpu_from_environment():
    """``GNET_TEST_CPU=avx2|avx512-vnni-bf16``: the whole run reads that CPU kind (tests/helpers/cpu.py)."""
    kind = cpu.kind_from_environment()
    if kind is None:
        yield None
        return
    with pytest.MonkeyPatch.context() as patch:
        yield cpu.fake_cpu(patch, kind)


@pytest.fixture(params=sorted(cpu.KINDS))
def cpu_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> cpu.CpuKind:
    """Runs a test once per CPU kind this project meets, each faked (what gnet reads, not what kernels do)."""
    return cpu.fake_cpu(monkeypatch, cpu.KINDS[request.param])


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


@pytest.fixture(scope="session")
def fixture_path() -> Path:
    return fixture_checkpoint()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("precision")


@pytest.fixture(scope="session")
def fp16(fixture_path: Path, workdir: Path):
    """The FP16 export (it writes the FP32 export beside it first: ``fp32_onnx``)."""
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_fp16.onnx", precision="fp16")


@pytest.fixture(scope="session")
def fp32_onnx(fp16, workdir: Path) -> Path:
    """The fixture's FP32 export, the one the FP16 and INT8 exports start from."""
    return workdir / "googlenet_fp32.onnx"


@pytest.fixture(scope="session")
def int8_trt(fixture_path: Path, workdir: Path):
    calib = CalibrationSettings(cache_dir=str(workdir / "calibration"))
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_int8.qdq.onnx", precision="int8", calib=calib)


@pytest.fixture(scope="session")
def int8_cpu(fixture_path: Path, workdir: Path, int8_trt):
    calib = CalibrationSettings(cache_dir=str(workdir / "calibration"))
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_int8_cpu.qdq.onnx", precision="int8",
                        int8_target="cpu", calib=calib)


@pytest.fixture(scope="session")
def frame_graphs(fixture_path: Path, workdir: Path, int8_cpu, fp16) -> dict[str, Path]:
    """Each kind's frame-input graph (``--input-type uint8-nhwc``), made from the session's float graphs beside it."""
    calib = CalibrationSettings(cache_dir=str(workdir / "calibration"))
    made = {}
    for kind in ARTIFACT_NAMES:
        precision, target = kind_precision(kind)
        made[kind] = export_model(weights=str(fixture_path), precision=precision, int8_target=target, calib=calib,
                                  output=workdir / artifact_name(kind, FRAME_INPUT), input_type=FRAME_INPUT).path
    return made


@pytest.fixture(scope="session")
def exported_aux(aux_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "googlenet_fp32.onnx"
    export_model(weights=str(aux_checkpoint), output=out, batches=[1, 3, 8])
    return out


@pytest.fixture(scope="session")
def random64(tmp_path_factory: pytest.TempPathFactory):
    """Seeded random GoogLeNet (seed 1) at 64 px: ``random64(variant)`` is its ONNX of that variant, built on demand
    in the bench tests' shared artifacts folder (the benchmark's own run reuses the same files)."""
    from gnet.bench.progress import Silent
    from gnet.export.weights import load_random
    from gnet.pipeline import ArtifactStore

    return ArtifactStore(load_random(1), bench_artifacts(tmp_path_factory), 64, Silent())


@pytest.fixture(scope="session")
def serve_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the trained fixture's 64-px FP32 export (``googlenet_fp32.onnx``): what serving tests serve.

    Exported once per session, its parity checked on four real photographs at batch 4 only (the PyTorch
    reference over the 540 held-out digits costs a minute on 2 busy cores; the serving tests prove the
    served logits against this very file themselves).
    """
    import skimage.data

    from gnet.export.api import export_model
    from tests.helpers.fixture import fixture_checkpoint

    base = tmp_path_factory.getbasetemp()
    photos = base / "serve-photos"
    photos.mkdir(exist_ok=True)
    for name in ("chelsea", "coffee", "rocket", "astronaut"):
        Image.fromarray(np.asarray(getattr(skimage.data, name)())).save(photos / f"{name}.png")
    folder = base / "serve-artifacts"
    export_model(weights=str(fixture_checkpoint()), output=folder / "googlenet_fp32.onnx", images=photos, batches=[4])
    return folder


@pytest.fixture(scope="session")
def serve_model(serve_artifacts: Path) -> Path:
    return serve_artifacts / "googlenet_fp32.onnx"

