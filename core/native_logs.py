"""Keeping the console quiet: the native libraries' start-up chatter.

MediaPipe's TFLite graphs print `INFO: Created TensorFlow Lite XNNPACK
delegate` and absl `W0000 ...` lines straight to file descriptor 2 the first
time a graph runs, and no environment variable turns them off (absl logs
before it is initialised go to stderr regardless). OpenCV warns about every
camera index it probes. A user sees these as errors.

The command line calls `set_quiet(True)` unless `--verbose`; library code
then wraps a graph's first run in `native_stderr_silenced()`. The library's
default is to hide nothing.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Iterator

_quiet = False
_lock = threading.Lock()


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet
    if quiet:
        try:
            import cv2
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        except (ImportError, AttributeError):
            pass
        try:
            from absl import logging as absl_logging
            absl_logging.set_verbosity(absl_logging.ERROR)
        except ImportError:
            pass


def is_quiet() -> bool:
    return _quiet


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at the null device for the duration, when quiet.

    Process-wide (that is where native code writes), so keep the block
    short: the first run of a graph.
    """
    if not _quiet:
        yield
        return
    with _lock:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(devnull)
            os.close(saved)
