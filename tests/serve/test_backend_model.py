"""gnet's python-backend model: per-request answers (pure functions), then through the real server — a NaN
request gets an INVALID_ARG error of its own and the good requests Triton batched with it are answered."""

from __future__ import annotations

import numpy as np
import pytest

from gnet import defaults
from gnet.serve import backend_model
from tests.helpers.serving import MAX_BATCH, needs_serving


def test_the_stub_side_names_agree_with_gnet_defaults():
    assert (backend_model.INPUT, backend_model.OUTPUT) == (defaults.INPUT_NAME, defaults.OUTPUT_NAME)


def test_problem_names_non_finite_pixels_only():
    good = np.ones((2, 3, 4, 4), np.float32)
    assert backend_model.problem(good) == ""
    assert backend_model.problem(np.full((1, 3, 4, 4), 3e38, np.float32)) == ""  # huge but finite
    bad = good.copy()
    bad[1, 0, 0, :3] = [np.nan, np.inf, -np.inf]
    assert backend_model.problem(bad) == ("input 'input' has 3 NaN/Inf value(s) in this request; "
                                          "send finite float32 pixels")


def test_answer_runs_the_good_requests_once_and_splits_them_back():
    calls = []

    def run(batch: np.ndarray) -> np.ndarray:  # logits = per-image sums: easy to trace back to the image
        calls.append(batch.shape[0])
        return batch.reshape(batch.shape[0], -1).sum(axis=1, keepdims=True)

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 3, 2, 2)).astype(np.float32) for n in (1, 3, 2)]
    arrays.insert(1, np.full((2, 3, 2, 2), np.nan, np.float32))
    results = backend_model.answer(arrays, run)
    assert calls == [6]  # one run over the 1 + 3 + 2 good images
    assert isinstance(results[1], backend_model.Invalid) and "24 NaN/Inf" in results[1]
    for array, result in zip([arrays[0], *arrays[2:]], [results[0], *results[2:]]):
        np.testing.assert_allclose(result, array.reshape(array.shape[0], -1).sum(axis=1, keepdims=True))
    only_bad = backend_model.answer([np.full((1, 3, 2, 2), np.inf, np.float32)], run)
    assert isinstance(only_bad[0], str) and calls == [6]  # nothing good: the session is not run


def test_a_failing_run_fails_only_the_requests_it_fails_on():
    def run(batch: np.ndarray) -> np.ndarray:  # fails on any batch holding an image of all 7s
        if (batch.reshape(batch.shape[0], -1) == 7).all(axis=1).any():
            raise RuntimeError("kernel failed\nsecond line")
        return batch.reshape(batch.shape[0], -1)[:, :2]

    arrays = [np.zeros((1, 3, 2, 2), np.float32), np.full((1, 3, 2, 2), 7, np.float32), np.ones((2, 3, 2, 2), np.float32),
              np.full((1, 3, 2, 2), np.nan, np.float32)]
    results = backend_model.answer(arrays, run)
    assert isinstance(results[1], backend_model.Failed) and results[1] == "the model failed on this request: kernel failed"
    assert isinstance(results[3], backend_model.Invalid)
    np.testing.assert_array_equal(results[0], np.zeros((1, 2)))
    np.testing.assert_array_equal(results[2], np.ones((2, 2)))


def test_non_finite_logits_are_an_error_of_that_request_only():
    """Issue 19 #1: finite pixels of 1e38 gave NaN logits answered with status 200."""

    def run(batch: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return batch.reshape(batch.shape[0], -1)[:, :2] * 10  # 1e38 * 10 overflows float32

    arrays = [np.ones((1, 3, 2, 2), np.float32), np.full((2, 3, 2, 2), 1e38, np.float32), np.zeros((1, 3, 2, 2), np.float32)]
    results = backend_model.answer(arrays, run)
    assert isinstance(results[1], backend_model.Invalid) and "'logits' for this request are NaN/Inf" in results[1]
    np.testing.assert_array_equal(results[0], np.full((1, 2), 10.0))
    np.testing.assert_array_equal(results[2], np.zeros((1, 2)))


def _failures(service) -> dict[str, float]:
    """gnet's failure counter on the server's metrics port, by reason."""
    import re
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{service.config.metrics_port}/metrics", timeout=10).read().decode()
    found = re.findall(r'^gnet_inference_request_failure\{([^}]*)\} (\S+)$', text, re.M)
    return {re.search(r'reason="(\w+)"', labels).group(1): float(value) for labels, value in found}


@needs_serving()
@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_overflowing_pixels_get_an_error_counted_as_a_failure(service, images, reference, protocol):
    from tritonclient.utils import InferenceServerException

    from gnet.serve.client import Client

    before = _failures(service).get("invalid", 0.0)
    with Client(service.url(protocol), protocol) as client:
        with pytest.raises(InferenceServerException) as caught:
            client.infer(np.full((1, 3, 64, 64), 3e38, np.float32))  # finite pixels, NaN logits
        assert "'logits' for this request are NaN/Inf" in caught.value.message()
        assert caught.value.status() == ("400" if protocol == "http" else "StatusCode.INVALID_ARGUMENT")
        assert float(np.abs(client.infer(images[:2]) - reference[:2]).max()) <= 1e-5
    assert _failures(service)["invalid"] == before + 1


@needs_serving()
@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_a_nan_request_gets_its_own_invalid_arg_error(service, images, reference, protocol):
    from tritonclient.utils import InferenceServerException

    from gnet.serve.client import Client

    with Client(service.url(protocol), protocol) as client:
        with pytest.raises(InferenceServerException) as caught:
            client.infer(np.full((1, 3, 64, 64), np.nan, np.float32))
        assert "has 12288 NaN/Inf value(s) in this request" in caught.value.message()
        assert caught.value.status() == ("400" if protocol == "http" else "StatusCode.INVALID_ARGUMENT")
        assert "Traceback" not in caught.value.message() and "/serve/" not in caught.value.message()
        assert float(np.abs(client.infer(images[:2]) - reference[:2]).max()) <= 1e-5


@needs_serving()
def test_good_requests_batched_with_a_nan_request_are_answered(service, images, reference):
    """MAX_BATCH requests sent at once (one NaN) fill one dynamic batch: one execution, one error, the rest right."""
    import tritonclient.grpc as grpc

    client = grpc.InferenceServerClient(service.grpc_url)
    try:
        before = _stats(client)
        results: dict[int, object] = {}
        for index in range(MAX_BATCH):
            array = np.full((1, 3, 64, 64), np.nan, np.float32) if index == 3 else images[index:index + 1]
            item = grpc.InferInput("input", list(array.shape), "FP32")
            item.set_data_from_numpy(array)
            client.async_infer("googlenet", [item], lambda result, error, i=index: results.__setitem__(i, error or result),
                               client_timeout=60)
        _wait_for(lambda: len(results) == MAX_BATCH)
        after = _stats(client)
    finally:
        client.close()
    assert (after[0] - before[0], after[1] - before[1]) == (1, MAX_BATCH)  # one execution held all eight requests
    assert "NaN/Inf" in results[3].message() and results[3].status() == "StatusCode.INVALID_ARGUMENT"
    for index in set(range(MAX_BATCH)) - {3}:
        logits = results[index].as_numpy("logits")
        assert float(np.abs(logits - reference[index:index + 1]).max()) <= 1e-5


def _stats(client) -> tuple[int, int]:
    entry = client.get_inference_statistics("googlenet").model_stats[0]
    return int(entry.execution_count), int(entry.inference_count)


def _wait_for(done, timeout_s: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the server did not answer every request in time"
        time.sleep(0.01)
