"""The one exception type that reaches users as a single sentence."""


class GnetError(Exception):
    """A failure caused by the user's input or machine, explained in one sentence.

    The CLI prints the message and exits non-zero without a traceback; anything
    else that escapes is a bug in gnet and keeps its traceback.
    """
