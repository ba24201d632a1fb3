"""User-facing errors: the CLI prints ``str(err)`` as one line and exits non-zero."""


class ZeronasError(Exception):
    """A problem with the user's input or environment, explained in one line.

    The message says what was wrong and how to fix it. The CLI catches these and
    prints them without a traceback.
    """


class UnknownNameError(ZeronasError, KeyError):
    """An unknown space / proxy / algorithm name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
