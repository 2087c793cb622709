"""The best CPU path across runtimes: what to deploy, each runtime's best, faster rows that failed (rows as the
harness writes them, made up: no model, no timing)."""

from __future__ import annotations

from typing import Any

from gnet.bench.best_cpu import best_cpu_lines, deploy_settings, summarize_best_cpu


def row(backend: str, variant: str, precision: str, ips: float, passed: bool = True, artifact: str | None = "a.onnx",
        settings: dict[str, Any] | None = None, batch: int = 64, runtime: str = "") -> dict[str, Any]:
    runtime = runtime or {"ort-cpu": "onnxruntime", "openvino-cpu": "openvino", "torch-cpu": "torch"}[backend]
    return {"backend": backend, "runtime": runtime, "variant": variant, "precision": precision, "batch": batch,
            "io": "end-to-end", "device": "cpu", "artifact": artifact, "throughput_ips": ips, "settings": settings or {},
            "parity": {"passed": passed, "top1_agreement": 0.998 if passed else 0.85,
                       "violations": [] if passed else ["cosine 0.672500 < 0.8", "top-1 agreement 85.0% < 99%"]},
            "speedup": {"vs_torch_cpu_eager_fp32": ips / 16.0, "vs_ort_cpu_default_fp32": ips / 50.0}}


OV_INT8 = {"options": "OpenVINO defaults", "inference_precision_hint": "f32", "requests_in_flight": 1,
           "executed_precision": "u8 convolutions, f32 elsewhere", "read_back": {"runtime_precision": "u8"}}
ROWS = [
    row("torch-cpu", "eager", "fp32", 16.0, artifact=None),
    row("ort-cpu", "default", "fp32", 50.0, artifact="googlenet_fp32.onnx"),
    row("ort-cpu", "default", "int8", 100.0, artifact="googlenet_int8_cpu.qdq.onnx",
        settings={"session_options": "ONNX Runtime defaults", "threads": "ORT default"}),
    row("openvino-cpu", "default", "int8", 90.0, artifact="googlenet_int8_cpu.qdq.onnx", settings=OV_INT8),
    row("openvino-cpu", "trt-qdq", "int8", 120.0, passed=False, artifact="googlenet_int8.qdq.onnx", settings=OV_INT8),
    row("openvino-cpu", "default", "fp32", 140.0, passed=False, artifact="googlenet_fp32.onnx", batch=8),
    row("ort-cpu", "default", "fp32", 60.0, artifact="googlenet_fp32.onnx", batch=8),
]


def test_the_fastest_passing_row_wins_whatever_the_runtime():
    best = {b["batch"]: b for b in summarize_best_cpu(ROWS)}
    b64 = best[64]
    assert (b64["runtime"], b64["backend"], b64["artifact"], b64["precision"]) == (
        "onnxruntime", "ort-cpu", "googlenet_int8_cpu.qdq.onnx", "int8")
    assert b64["vs_ort_cpu_default_fp32"] == 2.0 and b64["top1_agreement"] == 0.998
    assert b64["settings"] == {"session_options": "ONNX Runtime defaults", "threads": "ORT default"}
    assert best[8]["backend"] == "ort-cpu" and best[8]["throughput_ips"] == 60.0  # never the faster failed row


def test_each_runtime_keeps_its_own_best_and_what_it_really_ran():
    [b64, _] = sorted(summarize_best_cpu(ROWS), key=lambda b: -b["batch"])
    assert list(b64["per_runtime"]) == ["onnxruntime", "openvino", "torch"]
    openvino = b64["per_runtime"]["openvino"]
    assert openvino["throughput_ips"] == 90.0 and openvino["executed_precision"] == "u8 convolutions, f32 elsewhere"
    assert "read_back" not in openvino["settings"] and openvino["settings"]["options"] == "OpenVINO defaults"
    assert b64["per_runtime"]["onnxruntime"]["executed_precision"] == "int8"  # no read-back: the label


def test_faster_rows_that_failed_parity_are_named_with_why_never_chosen():
    [b64] = [b for b in summarize_best_cpu(ROWS) if b["batch"] == 64]
    assert [(f["variant"], f["violations"][0]) for f in b64["faster_but_failed"]] == [("trt-qdq", "cosine 0.672500 < 0.8")]
    text = "\n".join(best_cpu_lines([b64]))
    assert ("best CPU path at batch 64: ort-cpu:default int8 = 100.0 img/s, top-1 agreement 99.8%, 6.25× PyTorch eager "
            "FP32, 2.00× ONNX Runtime FP32 with default options — deploy googlenet_int8_cpu.qdq.onnx on onnxruntime, "
            "runs int8, options: ONNX Runtime defaults") in text
    assert "best of each other runtime: openvino 90.0 img/s (openvino-cpu:default int8, googlenet_int8_cpu.qdq.onnx)" in text
    assert ("faster but outside its tolerance: openvino-cpu:trt-qdq int8 on googlenet_int8.qdq.onnx = 120.0 img/s "
            "(cosine 0.672500 < 0.8; top-1 agreement 85.0% < 99%)") in text


def test_an_autotuned_row_deploys_its_choice_at_that_batch():
    settings = {"layout_by_batch": {"64": "throughput hint, 2 requests", "8": "OpenVINO's defaults"},
                "options_by_batch": {"64": {"performance_hint": "THROUGHPUT", "requests": 2}, "8": "OpenVINO defaults"},
                "autotune_img_s_by_batch": {"64": {"a": 1.0}}, "executed_precision": "f32", "read_back": {}}
    tuned = row("openvino-cpu", "tuned", "fp32", 60.0, settings=settings)
    assert deploy_settings(tuned) == {"layout": "throughput hint, 2 requests",
                                      "options": {"performance_hint": "THROUGHPUT", "requests": 2}}
    [best] = summarize_best_cpu([tuned])
    assert "options: throughput hint, 2 requests" in best_cpu_lines([best])[0]


def test_no_passing_row_no_best_path_and_an_old_document_still_reads():
    assert summarize_best_cpu([row("ort-cpu", "default", "fp32", 50.0, passed=False)]) == []
    old = {"batch": 64, "backend": "ort-cpu", "variant": "default", "precision": "int8", "throughput_ips": 99.1,
           "top1_agreement": 0.998, "vs_torch_cpu_eager_fp32": 6.03, "vs_ort_cpu_default_fp32": 1.97}
    assert best_cpu_lines([old]) == ["best CPU path at batch 64: ort-cpu:default int8 = 99.1 img/s, top-1 agreement "
                                     "99.8%, 6.03× PyTorch eager FP32, 1.97× ONNX Runtime FP32 with default options"]
