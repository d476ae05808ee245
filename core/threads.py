"""Thread counts for the numeric libraries, set in one place.

PyTorch and OpenCV keep process-wide thread pools; ONNX Runtime takes its
count per session (core/runtimes.py). Oversubscribing a laptop's cores
costs more than it gains, so every entry point (pipeline, trainer, loader
workers) calls this instead of setting the pools itself.
"""
from __future__ import annotations


def set_thread_counts(torch_threads: int, opencv_threads: int | None = None) -> None:
    import cv2
    import torch

    torch.set_num_threads(max(1, torch_threads))
    cv2.setNumThreads(max(1, torch_threads if opencv_threads is None else opencv_threads))
