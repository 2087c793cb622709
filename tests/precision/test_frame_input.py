"""Camera-frame graphs (``gnet export --input-type uint8-nhwc``): uint8 RGB [N, H, W, 3] in, the float graph's logits
out, for every precision; proven against PyTorch like every artifact, built by TensorRT-RTX, refused where they
cannot go."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from gnet.checks.images import IMAGENET_MEAN, IMAGENET_STD, load_images, to_frames
from gnet.checks.ort import cpu_session, run_batched
from gnet.checks.parity import check_onnx
from gnet.defaults import FIXTURE_IMAGE_SIZE
from gnet.errors import GnetError, UsageError
from gnet.export import metadata
from gnet.precision.frame_input import HEAD, frame_input_graph
from tests.helpers.cli import assert_one_sentence_failure, invoke

FLOAT_OF = {"fp32": "googlenet_fp32.onnx", "fp16": "googlenet_fp16.onnx", "int8": "googlenet_int8.qdq.onnx",
            "int8-cpu": "googlenet_int8_cpu.qdq.onnx"}


def _digits(count: int = 64):
    return load_images("digits:eval", FIXTURE_IMAGE_SIZE, limit=count)


def test_each_precision_takes_uint8_frames_and_records_the_contract(frame_graphs: dict[str, Path]):
    """Every kind's frame graph: input uint8 [batch, S, S, 3], metadata saying so, preprocessing without the
    normalization (the graph does it); the scale folded into the first Conv only where its weights are FP32."""
    for kind, path in frame_graphs.items():
        model = onnx.load(str(path))
        tensor = model.graph.input[0].type.tensor_type
        assert tensor.elem_type == onnx.TensorProto.UINT8, kind
        assert [d.dim_param or d.dim_value for d in tensor.shape.dim] == ["batch", 64, 64, 3], kind
        meta = metadata.read(model)
        assert meta["input_type"] == "uint8-nhwc" and meta["normalization_folded"] == (kind == "fp32"), kind
        assert meta["preprocessing"]["layout"] == "NHWC" and meta["preprocessing"]["dtype"] == "uint8"
        assert meta["graph_sha256"] == metadata.graph_digest(model)
        assert (f"{HEAD}/divide_std" in {n.name for n in model.graph.node}) == (kind != "fp32"), kind


def test_frames_give_the_float_graphs_logits(frame_graphs: dict[str, Path], workdir: Path):
    """Same pixels, two doors: the frame graph on uint8 frames and its float graph on the normalized images. FP32
    (folded) agrees to float32 rounding; the others within their precision's own noise."""
    images = _digits()
    frames = to_frames(images.data)
    bounds = {"fp32": 1e-5, "fp16": 5e-3, "int8": 5e-2, "int8-cpu": 5e-2}
    for kind, path in frame_graphs.items():
        float_logits = run_batched(cpu_session(workdir / FLOAT_OF[kind]), images.data, 16)
        frame_logits = run_batched(cpu_session(path), frames, 16)
        scale = np.abs(float_logits).max()
        assert np.abs(frame_logits - float_logits).max() / scale < bounds[kind], kind


def _fold_mean_into_bias(model: onnx.ModelProto) -> onnx.ModelProto:
    """The tempting wrong fold: the mean into the first Conv's bias too, so the Conv zero-pads raw pixels (whose
    zero is not the normalized zero): right in the interior, wrong along the border."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    sub = next(n for n in out.graph.node if n.name == f"{HEAD}/subtract_mean")
    conv = next(n for n in out.graph.node if sub.output[0] in n.input)
    init = {t.name: t for t in out.graph.initializer}
    weights = numpy_helper.to_array(init[conv.input[1]]).astype(np.float64)
    mean = numpy_helper.to_array(init[sub.input[1]]).astype(np.float64).reshape(1, 3, 1, 1)
    bias = numpy_helper.to_array(init[conv.input[2]]).astype(np.float64) - (weights * mean).sum(axis=(1, 2, 3))
    init[conv.input[2]].CopyFrom(numpy_helper.from_array(bias.astype(np.float32), conv.input[2]))
    conv.input[0] = sub.input[0]
    out.graph.node.remove(sub)
    return out


def test_the_fold_is_exact_at_the_border_and_a_fold_that_is_not_fails_parity(frame_graphs: dict[str, Path],
                                                                               workdir: Path, tmp_path: Path):
    from gnet.export.weights import load_weights, torch_logits

    images = _digits(32)
    loaded = load_weights(metadata.read(onnx.load(str(workdir / "googlenet_fp32.onnx")))["weights_spec"])
    reference = torch_logits(loaded.model, images.data)
    good = check_onnx(frame_graphs["fp32"], reference, images, "fp32", loaded.weights, [8])
    assert good.passed, good.first_failure()
    wrong = tmp_path / "mean_in_bias.onnx"
    onnx.save(_fold_mean_into_bias(onnx.load(str(frame_graphs["fp32"]))), str(wrong))
    bad = check_onnx(wrong, reference, images, "fp32", loaded.weights, [8])
    assert not bad.passed and any("rel max" in v or "cosine" in v for v in bad.checks[0].violations)


def test_tensorrt_rtx_builds_a_frame_graph_and_the_manifest_records_its_input(frame_graphs: dict[str, Path]):
    pytest.importorskip("tensorrt_rtx")
    from gnet.engines.build_inputs import BuildOptions
    from gnet.pipeline import build

    engine = build(frame_graphs["int8"], None, BuildOptions(runtime="tensorrt-rtx", min_batch=1, opt_batch=4,
                                                             max_batch=4))
    assert engine.plan.name == "googlenet_int8_uint8.rtx.plan"  # never the float graph's plan name
    tensor = engine.manifest["inputs"][0]
    assert tensor["dtype"] == "uint8" and tensor["shape"] == [-1, 64, 64, 3]
    assert tensor["profile"]["max"] == [4, 64, 64, 3]
    assert engine.manifest["input_type"] == "uint8-nhwc"
    assert engine.manifest["preprocessing"]["layout"] == "NHWC"


def test_gnet_check_and_openvino_prove_a_frame_graph(frame_graphs: dict[str, Path], tmp_path: Path):
    result = invoke("check", str(frame_graphs["int8-cpu"]), "--batches", "8")
    assert result.exit_code == 0 and "pass" in result.output, result.output
    xml = tmp_path / "googlenet_fp16_uint8.xml"
    result = invoke("openvino", str(frame_graphs["fp16"]), "-o", str(xml), "--batches", "8")
    assert result.exit_code == 0 and xml.is_file(), result.output
    result = invoke("check", str(xml), "--batches", "8")
    assert result.exit_code == 0 and "pass" in result.output, result.output


def test_runners_take_frames_or_normalized_images_and_refuse_frames_for_a_float_graph(frame_graphs, workdir: Path):
    import gnet

    images = _digits(8)
    frames = to_frames(images.data)
    with gnet.runners.OpenVINORunner(gnet.Artifact.open(frame_graphs["fp32"])) as runner:
        assert np.array_equal(runner.infer(frames), runner.infer(images.data))
    with gnet.runners.OnnxRuntimeRunner(gnet.Artifact.open(workdir / "googlenet_fp32.onnx")) as runner:
        with pytest.raises(UsageError, match="uint8 frames cannot be fed"):
            runner.infer(frames)


def test_images_that_are_not_8_bit_pixels_are_refused_not_rounded():
    data = _digits(2).data.copy()
    pixels = to_frames(data).transpose(0, 3, 1, 2).astype(np.float32) / 255
    mean, std = (np.asarray(v, np.float32).reshape(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))
    assert np.abs((pixels - mean) / std - data).max() < 1e-6  # the frames are the images' own pixels
    data[0, 0, 0, 0] += 0.25 / 255 / IMAGENET_STD[0]  # a quarter of a pixel level off
    with pytest.raises(GnetError, match="not 8-bit RGB pixels"):
        to_frames(data)
    with pytest.raises(GnetError):
        to_frames(np.full((1, 3, 4, 4), np.nan, np.float32))


def test_a_frame_graph_is_not_made_twice_or_over_its_float_graph(frame_graphs, fixture_path: Path, workdir: Path):
    with pytest.raises(GnetError, match="one float image input"):
        frame_input_graph(onnx.load(str(frame_graphs["fp16"])))
    for precision in ("fp32", "fp16"):  # any float graph's name, not only its own kind's: it would be overwritten
        before = (workdir / "googlenet_fp32.onnx").read_bytes()
        result = invoke("export", "--weights", str(fixture_path), "--precision", precision, "--input-type",
                        "uint8-nhwc", "-o", str(workdir / "googlenet_fp32.onnx"))
        assert_one_sentence_failure(result, "is a float graph's name")
        assert (workdir / "googlenet_fp32.onnx").read_bytes() == before


def test_serving_refuses_a_frame_graph_in_one_sentence(frame_graphs: dict[str, Path]):
    result = invoke("serve", str(frame_graphs["fp32"]))
    assert_one_sentence_failure(result, "uint8 camera frames", "googlenet_fp32.onnx")


def test_build_refuses_a_graph_whose_input_contradicts_its_input_type(frame_graphs: dict[str, Path], workdir: Path,
                                                                       tmp_path: Path):
    """A plan and manifest that disagree (a manifest saying frames over a float input, or a frame graph built
    under the float plan's name) are never written: each contradiction, and an unknown input type, is one
    sentence, before anything is built."""
    mismatch = "does not match its gnet metadata"
    cases = {"relabelled_float.onnx": (workdir / "googlenet_fp32.onnx", "uint8-nhwc", mismatch),
             "relabelled_frames.onnx": (frame_graphs["fp32"], "float-nchw", mismatch),
             "unknown.onnx": (frame_graphs["fp32"], "rgb565", "gnet.input_type is 'rgb565', not one of")}
    for name, (source, value, needle) in cases.items():
        model = onnx.load(str(source))
        metadata.stamp(model, {"input_type": value})
        onnx.save(model, str(tmp_path / name))
        result = invoke("build", str(tmp_path / name), "--runtime", "tensorrt-rtx")
        assert_one_sentence_failure(result, needle)
    assert not list(tmp_path.glob("*.plan")) and not list(tmp_path.glob("*.json"))


def test_the_python_runners_refuse_what_no_graph_takes_in_one_sentence(frame_graphs: dict[str, Path]):
    import gnet

    frames = to_frames(_digits(2).data)
    bad = {"NCHW bytes": frames.transpose(0, 3, 1, 2).copy(), "int64 pixels": frames.astype(np.int64),
           "no batch axis": frames[0], "an empty batch": frames[:0],
           "float16 images": _digits(2).data.astype(np.float16)}
    with gnet.runners.OnnxRuntimeRunner(gnet.Artifact.open(frame_graphs["fp32"])) as runner:
        for images in bad.values():  # each refused by gnet, never a library's own exception
            with pytest.raises(GnetError):
                runner.infer(images)
        with pytest.raises(UsageError, match="NaN or infinite"):
            runner.infer(np.full((1, 3, 64, 64), np.nan, np.float32))


def test_an_edited_head_fails_parity_and_the_diagnosis_names_it(frame_graphs: dict[str, Path], workdir: Path,
                                                                 tmp_path: Path):
    """The head is compared with the normalized images it must give back: a mean off by 2% is named there, not
    blamed on the runtime; the good heads (FP32 folded, FP16 not) are not blamed."""
    from gnet.checks.diagnosis import diagnose, locate_divergence

    images = _digits(8)
    for kind in ("fp32", "fp16"):
        assert locate_divergence(frame_graphs[kind], workdir / "googlenet_fp32.onnx", images) is None, kind
    model = onnx.load(str(frame_graphs["fp16"]))
    mean = next(t for t in model.graph.initializer if t.name == f"{HEAD}/mean_255")
    mean.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(mean) * np.float32(1.02), mean.name))
    edited = tmp_path / "edited_head.onnx"
    onnx.save(model, str(edited))
    found = diagnose(edited, workdir / "googlenet_fp32.onnx", images)
    assert found is not None and found.node == f"{HEAD}/subtract_mean", found
    assert found.sqnr_db is not None and found.sqnr_db < 40


def test_a_float_graph_of_another_io_dtype_is_made_again_not_reused(fp32_onnx: Path, fixture_path: Path,
                                                                     tmp_path: Path):
    """A folder whose FP16 graph has FP16 I/O: a frame export asking FP32 I/O must not reuse it (its logits would
    come out float16), and says that it wrote the float graph first."""
    import shutil

    from gnet.export.api import export_model

    shutil.copyfile(fp32_onnx, tmp_path / "googlenet_fp32.onnx")
    frames = tmp_path / "googlenet_fp16_uint8.onnx"
    for io_dtype, logits_type in (("fp16", onnx.TensorProto.FLOAT16), ("fp32", onnx.TensorProto.FLOAT)):
        made = export_model(weights=str(fixture_path), precision="fp16", io_dtype=io_dtype, output=frames,
                            input_type="uint8-nhwc", batches=[8])
        assert onnx.load(str(frames)).graph.output[0].type.tensor_type.elem_type == logits_type, io_dtype
        assert any("wrote the float graph" in note for note in made.notes), made.notes
