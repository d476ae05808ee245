"""Keeping the console quiet: the native libraries' start-up chatter.

MediaPipe's TFLite graphs print `INFO: Created TensorFlow Lite XNNPACK
delegate` and absl `W0000 ...` lines straight to file descriptor 2 the first
time a graph runs, and no environment variable turns them off (absl logs
before it is initialised go to stderr regardless). OpenCV warns and errs
about every camera index it probes (`[ WARN:0@0.18] ... can't open camera by
index`, `[ERROR:0@0.18] ... Camera index out of range`), and the FFmpeg inside
OpenCV's wheel reports every damaged packet of a video (`[mov,mp4,...] moov
atom not found`, `[mpeg4 @ 0x...] Error at MB`). A user sees these as errors,
beside our own one line that already says what is wrong.

The command line calls `set_quiet(True)` unless `--verbose`, before any
video is opened: OpenCV's own log level goes to silent, and FFmpeg's is set
through `OPENCV_FFMPEG_LOGLEVEL` (OpenCV reads it once, when it first opens
a file with FFmpeg; -8 is FFmpeg's AV_LOG_QUIET). Library code wraps a
graph's first run in `native_stderr_silenced()`. The library's default is
to hide nothing.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Iterator

FFMPEG_LOG_LEVEL_ENV = "OPENCV_FFMPEG_LOGLEVEL"
FFMPEG_QUIET = "-8"                     # AV_LOG_QUIET
OPENCV_SILENT = 0                       # cv::utils::logging::LOG_LEVEL_SILENT

_quiet = False
_lock = threading.Lock()


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet
    if quiet:
        os.environ.setdefault(FFMPEG_LOG_LEVEL_ENV, FFMPEG_QUIET)   # a level the user chose wins
        os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
        import cv2
        # cv2.utils.logging is absent from the pip wheels (the old call here failed silently);
        # the top-level setter is what they export. 0 is OpenCV's LOG_LEVEL_SILENT.
        cv2.setLogLevel(OPENCV_SILENT)
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
