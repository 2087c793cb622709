"""``gnet triton-repo``'s writer: one validated model per artifact, the atomic swap, the refusals. No server."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gnet.atomic import TEMP_MARK
from gnet.errors import GnetError, UsageError
from gnet.serve import triton_repo
from gnet.serve.model_config import render, validate
from gnet.serve.triton_versions import tensorrt_for
from tests.helpers.manifests import fake_plan

pytest.importorskip("tritonclient.grpc", reason="tritonclient (make install-serve) provides Triton's config schema")


@pytest.fixture
def artifacts(serve_model: Path, tmp_path: Path) -> Path:
    """Two ONNX kinds (the config depends only on the I/O contract, so one 64-px file serves for both) and a plan."""
    folder = tmp_path / "artifacts"
    folder.mkdir()
    for name in ("googlenet_fp32.onnx", "googlenet_int8_cpu.qdq.onnx"):
        os.link(serve_model, folder / name)
    fake_plan(folder, "fp16", trt="10.13.3.9", max_batch=256, opt_batch=48)
    return folder


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def test_one_validated_model_per_artifact(artifacts: Path, tmp_path: Path):
    options = triton_repo.RepoOptions(max_batch=32, cpu_instances=2, server_tensorrt="10.13.3.9")
    repo = triton_repo.write(triton_repo.discover(artifacts, options), tmp_path / "model_repository")
    names = sorted(p.name for p in repo.iterdir() if p.is_dir())
    assert names == ["googlenet_onnx_fp32", "googlenet_onnx_int8_cpu", "googlenet_trt_fp16"]
    for name in names:
        config = validate((repo / name / "config.pbtxt").read_text())
        assert config.name == name and config.input[0].name == "input" and config.output[0].name == "logits"
        assert config.version_policy.latest.num_versions == 1
    fp32 = validate((repo / "googlenet_onnx_fp32" / "config.pbtxt").read_text())
    assert fp32.platform == "onnxruntime_onnx" and fp32.max_batch_size == 32 and list(fp32.input[0].dims) == [3, 64, 64]
    assert fp32.instance_group[0].kind == fp32.instance_group[0].KIND_GPU and not fp32.optimization.ListFields()
    cpu = validate((repo / "googlenet_onnx_int8_cpu" / "config.pbtxt").read_text())
    assert cpu.instance_group[0].kind == cpu.instance_group[0].KIND_CPU and cpu.instance_group[0].count == 2
    plan = validate((repo / "googlenet_trt_fp16" / "config.pbtxt").read_text())
    assert plan.platform == "tensorrt_plan" and plan.max_batch_size == 256 and plan.default_model_filename == "model.plan"
    assert list(plan.dynamic_batching.preferred_batch_size) == [8, 16, 32, 48, 64, 128, 256]
    assert (repo / "googlenet_trt_fp16" / "1" / "model.plan").read_bytes() == b"not really an engine"
    assert json.loads((repo / "googlenet_trt_fp16" / "googlenet_fp16.json").read_text())["precision"] == "fp16"
    assert (repo / "googlenet_trt_fp16" / "labels.txt").read_text().splitlines()[0] == "digit 0"
    assert json.loads((repo / "googlenet_onnx_fp32" / "gnet.json").read_text())["source"] == "googlenet_fp32.onnx"


def test_fp16_and_int8_onnx_get_the_tensorrt_accelerator_at_their_precision(serve_model: Path, tmp_path: Path):
    entry = triton_repo.onnx_entry(serve_model, "int8", triton_repo.RepoOptions(max_batch=16))
    params = validate(render(entry.spec)).optimization
    accelerator = params.execution_accelerators.gpu_execution_accelerator[0]
    assert accelerator.name == "tensorrt" and accelerator.parameters["precision_mode"] == "INT8"
    assert accelerator.parameters["trt_profile_max_shapes"] == "input:16x3x64x64"
    assert accelerator.parameters["trt_profile_min_shapes"] == "input:1x3x64x64"
    assert entry.spec.name == "googlenet_onnx_int8"


def test_a_failed_write_leaves_the_old_repository_byte_for_byte_and_no_temporary_folder(artifacts, tmp_path):
    found = triton_repo.discover(artifacts, triton_repo.RepoOptions())
    repo = triton_repo.write(found, tmp_path / "model_repository")
    before = _tree(repo)
    broken = triton_repo.Repository([*found.entries[:1], triton_repo.Entry(
        spec=type(found.entries[0].spec)(**{**found.entries[0].spec.__dict__, "name": "bad", "preferred": (999,)}),
        source=found.entries[0].source, manifest_name="gnet.json", manifest={}, labels=())])
    with pytest.raises(GnetError, match="config.pbtxt of bad is not a usable"):
        triton_repo.write(broken, repo)
    assert _tree(repo) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifacts", "model_repository"]


def test_a_second_write_replaces_the_first(artifacts, tmp_path):
    repo = tmp_path / "model_repository"
    triton_repo.write(triton_repo.discover(artifacts, triton_repo.RepoOptions()), repo)
    (artifacts / "googlenet_int8_cpu.qdq.onnx").unlink()
    triton_repo.write(triton_repo.discover(artifacts, triton_repo.RepoOptions()), repo)
    assert sorted(p.name for p in repo.iterdir() if p.is_dir()) == ["googlenet_onnx_fp32", "googlenet_trt_fp16"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifacts", "model_repository"]


def test_the_staging_folder_of_a_killed_write_is_removed_by_the_next(artifacts, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".model_repository{TEMP_MARK}{dead.pid}-abc123"
    live = tmp_path / f".model_repository{TEMP_MARK}{os.getppid()}-abc123"
    for folder in (left, live):
        (folder / "googlenet_onnx_fp32").mkdir(parents=True)
    triton_repo.write(triton_repo.discover(artifacts, triton_repo.RepoOptions()), tmp_path / "model_repository")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["artifacts", "model_repository", live.name])


def test_a_folder_gnet_did_not_write_is_never_replaced(artifacts, tmp_path):
    with pytest.raises(UsageError, match="exists and was not written by gnet triton-repo"):
        triton_repo.write(triton_repo.discover(artifacts, triton_repo.RepoOptions()), artifacts)
    assert (artifacts / "googlenet_fp32.onnx").is_file()


def test_a_plan_of_another_tensorrt_is_refused_in_one_sentence(artifacts):
    options = triton_repo.RepoOptions(server_tensorrt=tensorrt_for("25.10"))
    with pytest.raises(UsageError) as caught:
        triton_repo.discover(artifacts, options)
    assert str(caught.value).startswith("cannot put googlenet_fp16.plan in a repository for that Triton: it was built "
                                        "with TensorRT 10.13.3.9 but the server has TensorRT 10.11.0.33; rebuild it")


def test_tensorrt_rtx_plans_are_skipped_by_manifest_key_or_by_name(artifacts):
    _, doc = fake_plan(artifacts, "int8", name="googlenet_int8.plan")
    path = artifacts / "googlenet_int8.json"
    path.write_text(json.dumps({**doc, "runtime": "tensorrt-rtx"}))
    (artifacts / "googlenet_fp32.rtx.plan").write_bytes(b"rtx")  # no manifest at all: judged by its name
    found = triton_repo.discover(artifacts, triton_repo.RepoOptions())
    assert sorted(name for name, _ in found.skipped) == ["googlenet_fp32.rtx.plan", "googlenet_int8.plan"]
    assert all("Triton has no TensorRT-RTX backend" in why for _, why in found.skipped)
    assert "googlenet_trt_int8" not in [e.spec.name for e in found.entries]


def test_an_empty_or_missing_artifacts_folder_is_one_sentence(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        triton_repo.discover(tmp_path / "nowhere", triton_repo.RepoOptions())
    with pytest.raises(UsageError, match="no gnet artifact to serve in"):
        triton_repo.discover(tmp_path, triton_repo.RepoOptions())


def test_the_repository_holds_copies_that_cannot_change_the_artifacts(artifacts, tmp_path):
    """Issue 19 #4: hard links let ``: > repo/.../model.onnx`` empty the artifact, and chmod change it."""
    source = artifacts / "googlenet_fp32.onnx"
    before = source.read_bytes()
    repo = triton_repo.write(triton_repo.discover(artifacts, triton_repo.RepoOptions()), tmp_path / "model_repository")
    served = repo / "googlenet_onnx_fp32" / "1" / "model.onnx"
    assert served.read_bytes() == before and not os.path.samefile(served, source)
    served.write_bytes(b"")
    served.chmod(0o600)
    assert source.read_bytes() == before and source.stat().st_mode & 0o044


def test_a_plan_that_is_not_what_its_manifest_records_is_refused(artifacts, tmp_path):
    """Issue 19 #5: a 7-byte plan whose manifest records 20 bytes was shipped."""
    (artifacts / "googlenet_fp16.plan").write_bytes(b"7 bytes")
    with pytest.raises(GnetError, match="googlenet_fp16.plan in a repository: it is not the plan its manifest records: "
                                        "it is 7 bytes, the manifest records 20"):
        triton_repo.discover(artifacts, triton_repo.RepoOptions(server_tensorrt="10.13.3.9"))
    (artifacts / "googlenet_fp16.plan").write_bytes(b"not really an engin3")  # same size, other bytes
    with pytest.raises(GnetError, match="its SHA-256 is"):
        triton_repo.discover(artifacts, triton_repo.RepoOptions())


def test_a_repository_that_cannot_be_swapped_in_is_one_sentence(artifacts, tmp_path, monkeypatch):
    """Issue 19 #12: ``-o MOUNTPOINT`` (rename gives EBUSY) was a traceback; nothing is left behind."""
    import errno

    out = tmp_path / "model_repository"
    out.mkdir()
    real = os.rename

    def busy(src, dst):
        if Path(src) == out:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(src))
        real(src, dst)

    monkeypatch.setattr(triton_repo.os, "rename", busy)
    with pytest.raises(GnetError, match=r"cannot replace the repository .*model_repository: Device or resource busy; "
                                        "choose another -o folder"):
        triton_repo.write(triton_repo.discover(artifacts, triton_repo.RepoOptions()), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifacts", "model_repository"] and not any(out.iterdir())
