"""Thread counts for the numeric libraries, set in one place.

PyTorch and OpenCV keep process-wide thread pools; ONNX Runtime takes its
count per session (core/runtimes.py). Oversubscribing a laptop's cores
costs more than it gains, so every entry point (pipeline, trainer, loader
workers) calls this instead of setting the pools itself. PyTorch's pool is
set only if torch is already loaded (or will be: `torch=True`): the default
run never imports it.
"""
from __future__ import annotations

import sys


def set_thread_counts(threads: int, opencv_threads: int | None = None, torch: bool = False) -> None:
    import cv2

    cv2.setNumThreads(max(1, threads if opencv_threads is None else opencv_threads))
    if torch or "torch" in sys.modules:
        import torch as torch_module
        torch_module.set_num_threads(max(1, threads))
