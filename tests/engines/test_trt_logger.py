"""One collecting logger per TensorRT module: what TensorRT says is kept for gnet's sentences, not printed."""

from __future__ import annotations

from gnet.engines.trt_logger import first_error, logger_for, mark, since
from tests.helpers.rtx import real_rtx


def test_one_logger_per_module_that_keeps_what_tensorrt_rtx_says(capfd):
    trt = real_rtx()
    logger = logger_for(trt)
    assert logger_for(trt) is logger and isinstance(logger, trt.ILogger)
    start = mark(logger)
    validity, _bits = trt.Runtime(logger).get_engine_validity(b"\0" * 100)  # logs at INFO only: not kept
    assert str(validity).endswith("INVALID")
    logger.log(trt.ILogger.Severity.ERROR, "first\n  problem")
    logger.log(trt.ILogger.Severity.WARNING, "careful")
    logger.log(trt.ILogger.Severity.VERBOSE, "noise")
    assert since(logger, start) == ["first problem", "careful"]
    assert since(logger, start, "WARNING") == ["careful"]
    assert first_error(logger, start) == "first problem"
    assert first_error(logger, mark(logger)) == "it logged no error"
    assert "[TRT]" not in capfd.readouterr().err  # nothing reached the terminal
