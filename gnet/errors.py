"""The one exception type that reaches users as a single sentence."""


class GnetError(Exception):
    """A failure caused by the user's input or machine, explained in one sentence.

    The CLI prints the message and exits non-zero without a traceback; anything
    else that escapes is a bug in gnet and keeps its traceback.
    """


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of ``exc``'s message (its type name when empty), cut to ``limit`` characters.

    Libraries (onnx, ONNX Runtime, TensorRT) raise messages spanning many lines; a GnetError quotes
    only this much of them.
    """
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:limit]
