"""The one base of every error the library raises for a person to read.

Each says what is wrong in one line and, where it can, what to do about it;
the command line prints it as `error: <text>` and exits with its
`exit_code`, the window shows it in its banner. Nothing else is needed to
turn a failure into a message, so no caller keeps its own list of classes.

Exit codes (README, "Exit codes"; main.py adds 130 for Ctrl-C and 143 for
SIGTERM):
    2  bad input or options: nothing was written (the default)
    1  a failure while running, e.g. a write failed or a camera stopped
"""
from __future__ import annotations

EXIT_DONE = 0
EXIT_FAILED = 1            # a failure while running: a write failed, a source died, a batch file failed
EXIT_BAD_INPUT = 2         # bad input or options: nothing was written
EXIT_INTERRUPTED = 130     # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143      # SIGTERM (128 + SIGTERM)


class MobileFANError(Exception):
    """An error a user can act on; `str()` is the whole message."""

    exit_code = EXIT_BAD_INPUT


class RunFailure(MobileFANError):
    """Something failed after the run had started (outputs may hold partial, whole rows)."""

    exit_code = EXIT_FAILED
