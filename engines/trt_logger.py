"""One collecting TensorRT logger per edition and process: messages are kept, not printed.

TensorRT's own ``trt.Logger`` prints to stderr. gnet instead keeps what TensorRT says and quotes it:
a build that returns None is one sentence with TensorRT's first error, and its warnings become
gnet's warnings. TensorRT-RTX, on a machine without a GPU, also logs harmless INTERNAL_ERROR lines
(``getCurrentCC … cudaError 35`` when asked for a plan's validity) that must not reach the terminal
as fatal-looking ``[TRT] [F]`` lines. One logger per process, because a second ``Builder`` given
another logger while the first lives makes TensorRT warn that it ignores the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_LOGGERS: dict[int, tuple[Any, Any]] = {}  # id(module) → (module, logger): the module is kept alive with its logger

SHOWN = ("INTERNAL_ERROR", "ERROR", "WARNING")
"""Severities gnet quotes; INFO and VERBOSE are kept out of the list (TensorRT-RTX logs a lot at INFO)."""


@dataclass(frozen=True)
class Message:
    severity: str  # "ERROR", "WARNING", ...
    text: str


def logger_for(trt: Any) -> Any:
    """The process-wide collecting logger of this TensorRT module (an ``ILogger`` subclass, as NVIDIA documents)."""
    found = _LOGGERS.get(id(trt))
    if found is not None and found[0] is trt:
        return found[1]

    class Collecting(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.messages: list[Message] = []

        def log(self, severity: Any, msg: str) -> None:
            name = str(severity).rsplit(".", 1)[-1]
            if name in SHOWN:
                self.messages.append(Message(name, " ".join(str(msg).split())))

    logger = Collecting()
    _LOGGERS[id(trt)] = (trt, logger)
    return logger


def mark(logger: Any) -> int:
    """Where the log stands now; :func:`since` returns what came after."""
    return len(logger.messages)


def since(logger: Any, start: int, *severities: str) -> list[str]:
    """Messages logged after ``start`` (of the given severities, default all gnet keeps)."""
    wanted = severities or SHOWN
    return [m.text for m in logger.messages[start:] if m.severity in wanted]


def first_error(logger: Any, start: int, default: str = "it logged no error") -> str:
    """TensorRT's first error after ``start``, cut to a clause, or ``default``."""
    errors = since(logger, start, "ERROR") or since(logger, start, "INTERNAL_ERROR")
    return errors[0][:300] if errors else default
