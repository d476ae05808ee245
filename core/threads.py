"""Thread counts for the numeric libraries, and the decoder's lower priority, set in one place.

PyTorch and OpenCV keep process-wide thread pools; ONNX Runtime takes its
count per session (core/runtimes.py). Oversubscribing a laptop's cores
costs more than it gains, so every entry point (pipeline, trainer, loader
workers) calls this instead of setting the pools itself. PyTorch's pool is
set only if torch is already loaded (or will be: `torch=True`): the default
run never imports it.

A headless run decodes the video in threads of its own (core/read_ahead.py) at a lower
priority than the threads that run the pipeline (`lower_this_thread`, `run_in_lowered_thread`):
with more runnable threads than cores, the scheduler then gives the cores to the frame's
critical path and the decoder fills the gaps (README, Performance, round 20).
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Callable, TypeVar

T = TypeVar("T")


def default_model_threads(cores: int | None = None) -> int:
    """The model's threads when none are asked for: 2, but 1 on a machine with 2 cores or fewer.

    The network is not all of a frame: video decoding (read ahead in a thread), the eyelid
    network, pose and the Python around them need a core too. On a 2-core machine a second model
    thread took the core they run on: `python -m bench.versus --threads 1` there measured the
    small model 1.14x and the default 1.07x as fast end to end with one model thread (README,
    Performance). With more cores a second thread is free, and the face network gains from it.
    """
    cores = os.cpu_count() if cores is None else cores
    return 1 if (cores or 1) <= 2 else 2


def keep_blas_to_one_thread() -> None:
    """Before numpy is first imported: its OpenBLAS to one thread, unless the user chose a count.

    Our numpy work is on tiny arrays (68 points, 3x3 neighbourhoods), where BLAS threads never
    pay; but after a call OpenBLAS keeps its worker thread busy-waiting (sched_yield) for the next
    one, and on a 2-core machine that thread took ~3% of the samples of a headless run, CPU the
    pipeline's threads needed (`perf record`, README Performance round 15). It must run before
    numpy loads: OpenBLAS reads the variable once."""
    if "numpy" in sys.modules:
        return
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def set_thread_counts(threads: int, opencv_threads: int | None = None, torch: bool = False) -> None:
    import cv2

    cv2.setNumThreads(max(1, threads if opencv_threads is None else opencv_threads))
    if torch or "torch" in sys.modules:
        import torch as torch_module
        torch_module.set_num_threads(max(1, threads))


def lower_this_thread(increment: int) -> bool:
    """Raise the calling thread's nice value by `increment` (capped at 19); True if it changed.

    Linux only, where a thread is a task of its own and `setpriority` on its id touches it alone;
    elsewhere (and for `increment` <= 0) nothing happens. Threads this one starts afterwards
    inherit the value. An unprivileged thread can never lower it again, so this is one-way."""
    if increment <= 0 or not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        target = min(19, now + increment)
        if target == now:
            return False
        os.setpriority(os.PRIO_PROCESS, tid, target)
    except OSError:                      # a sandbox that forbids it: run at the usual priority
        return False
    return True


def run_in_lowered_thread(fn: Callable[[], T], increment: int) -> T:
    """`fn()` called in a short-lived thread whose nice value is raised by `increment`: the
    threads `fn` starts (FFmpeg's decoder threads, when it opens a video) inherit that priority,
    while the caller's own priority stays as it was. `fn`'s exception is raised here."""
    if increment <= 0 or not sys.platform.startswith("linux"):
        return fn()
    box: list = []

    def call() -> None:
        lower_this_thread(increment)
        try:
            box.append((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box.append((False, exc))

    thread = threading.Thread(target=call, name="lowered-open", daemon=True)
    thread.start()
    thread.join()
    ok, value = box[0]
    if not ok:
        raise value
    return value
