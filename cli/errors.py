"""How every `asr` subcommand reports a bad command line or bad input: one line on stderr, exit status 2.

A subcommand raises `CommandError` (or wraps library calls in `input_errors(...)`, which turns the library's
typed errors into one); `cli.main` prints `asr COMMAND: message` on stderr and exits 2, the status argparse
already uses for a bad command line. No traceback: the message says what to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

EXIT_OK = 0
# The command ran but its work failed (an export that does not verify, a corpus with nothing left to write).
EXIT_FAILED = 1
# A usage or input error: argparse's status for a bad command line, and ours for a missing file, a bad value.
EXIT_USAGE = 2


class CommandError(Exception):
    """A problem with what the user asked for (a missing file, a value out of range): exit 2, no traceback."""


@contextmanager
def input_errors(*error_types: type[BaseException]) -> Iterator[None]:
    """Re-raises the given library errors, which mean "bad input", as `CommandError` with their message."""
    try:
        yield
    except error_types as error:
        # ServiceError keeps its client-facing text in `.message`; the other libraries' errors in str().
        raise CommandError(getattr(error, "message", None) or str(error)) from error
