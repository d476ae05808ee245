"""Why a frame's pieces cost more inside a run than alone: the face network's CPU per call after idle gaps.

    python -m bench.idle_penalty [--model small] [--rounds 2] [--calls 300]

`bench.frame_budget` found a headless run's work costing 1.2-1.5x the sum of its pieces timed
alone. This isolates one cause on the face network (the shipped export, one thread, no
spinning, as the app runs it), timing each call's CPU (`time.thread_time`, this thread only, so
waiting is not counted) in these situations, alternated `--rounds` times:

- back to back (the pieces-alone setting of `bench.frame_budget`);
- with a frame's other work between calls in the same thread (the eyelid network on two eyes, a
  640x360 frame's colour conversion and blur, the heatmap decode): what the caches lose to it;
- while a video is decoded in another process (FFmpeg through OpenCV, its own threads);
- after a sleep of 0.5 / 1 / 2 / 5 ms before each call (the thread's core idles meanwhile);
- while another thread of this process runs Python without pause (it holds Python's lock, so
  each call waits for the lock when it returns: the worker thread's situation in a headless run);
- each again with `--keep-busy`: a SCHED_IDLE process per core spinning, which runs only on a core that
  would otherwise idle (Linux only), to tell an idle core's cost from the work's.

The table gives CPU microseconds per call (median over rounds) and the ratio to back to back. A
call's CPU should not depend on what the core did before it; where it does, the machine (its
virtual CPUs, caches, clock) charges for idling, and no change in our code shows up in it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from core.config import default_weights_path
from core.runtimes import OnnxRuntimeRunner
from core.weights import export_path


def call_cpu_us(runner: OnnxRuntimeRunner, batch: np.ndarray, calls: int, gap_s: float = 0.0,
                between=None) -> float:
    """Mean CPU microseconds of this thread per call, after `gap_s` of sleep before each, or
    `between(heatmaps)` run after each (not counted)."""
    total = 0.0
    for _ in range(calls):
        if gap_s:
            time.sleep(gap_s)
        start = time.thread_time()
        heatmaps = runner(batch)
        total += time.thread_time() - start
        if between is not None:
            between(heatmaps)
    return total / calls * 1e6


def frame_work():
    """A frame's other work, as a callable run between network calls: eyelids, colour, blur, decode."""
    import cv2

    from core.eyelids import EyelidRefiner
    from core.heatmap import decode_heatmaps
    eyelids = EyelidRefiner()
    rng = np.random.default_rng(1)
    eyes = rng.uniform(0, 255, (2, 3, eyelids.crop.size, eyelids.crop.size)).astype(np.float32)
    frame = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)

    def work(heatmaps: np.ndarray) -> None:
        eyelids.runner(eyes)
        cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), (5, 5), 1.0)
        decode_heatmaps(heatmaps)
    return work


@contextmanager
def processes_running(commands: list[list[str]], settle_s: float = 0.3) -> Iterator[None]:
    """Other processes running (started, given `settle_s` to get going), killed on leaving."""
    running = [subprocess.Popen(command) for command in commands]
    time.sleep(settle_s)
    try:
        yield
    finally:
        for process in running:
            process.kill()
            process.wait()


def decoding_command(video: Path) -> list[str]:
    """A process that decodes `video` (and converts each frame to RGB) over and over."""
    code = ("import cv2, sys\nwhile True:\n cap = cv2.VideoCapture(sys.argv[1])\n"
            " while True:\n  ok, f = cap.read()\n  if not ok: break\n  cv2.cvtColor(f, cv2.COLOR_BGR2RGB)\n")
    return [sys.executable, "-c", code, str(video)]


def idle_spinner_commands() -> list[list[str]]:
    """One SCHED_IDLE spinning process per core: they take only time no other thread wants."""
    code = "import os; os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\nwhile True: pass"
    return [[sys.executable, "-c", code] for _ in range(os.cpu_count() or 1)]


@contextmanager
def python_thread_running() -> Iterator[None]:
    """Another thread of this process running Python (so holding its lock) throughout."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            x = 0
            while x < 200:
                x += 1

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    time.sleep(0.1)
    try:
        yield
    finally:
        stop.set()
        thread.join()


def measured_while(context, measure) -> float:
    with context:
        return measure()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="small", choices=("default", "small", "accurate"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--video", type=Path, help="the video decoded beside it (default: a synthetic clip)")
    parser.add_argument("--keep-busy", action="store_true",
                        help="also every row again with SCHED_IDLE spinners keeping the cores from idling")
    args = parser.parse_args(argv)
    path = export_path(default_weights_path(68, args.model), ".onnx")
    runner = OnnxRuntimeRunner(path.read_bytes(), 1, spinning=False)
    size = runner.session.get_inputs()[0].shape[-1]                        # the graph's square input side
    batch = np.random.default_rng(0).uniform(0, 255, (1, 3, size, size)).astype(np.float32)
    call_cpu_us(runner, batch, 50)                                         # warm-up
    work = frame_work()
    tmp = tempfile.TemporaryDirectory()
    video = args.video
    if video is None:
        from core.synthetic_video import make_face_video
        video = make_face_video(Path(tmp.name) / "clip.mp4")
    rows = {"back to back": lambda: call_cpu_us(runner, batch, args.calls),
            "eyelids, colour, blur, decode between calls": lambda: call_cpu_us(runner, batch, args.calls, between=work),
            "a video decoded in another process meanwhile":
                lambda: measured_while(processes_running([decoding_command(video)], 0.5),
                                       lambda: call_cpu_us(runner, batch, args.calls))}
    for gap_ms in (0.5, 1.0, 2.0, 5.0):
        rows[f"{gap_ms:g} ms sleep before each call"] = \
            lambda g=gap_ms / 1e3: call_cpu_us(runner, batch, args.calls, g)
    rows["another thread running Python meanwhile"] = \
        lambda: measured_while(python_thread_running(), lambda: call_cpu_us(runner, batch, args.calls))
    settings = [False, True] if args.keep_busy and hasattr(os, "SCHED_IDLE") else [False]
    results: dict[tuple[str, bool], list[float]] = {(r, b): [] for r in rows for b in settings}
    with tmp:
        for _ in range(args.rounds):
            for busy in settings:
                with processes_running(idle_spinner_commands() if busy else [], 0.3 if busy else 0.0):
                    for label, measure in rows.items():
                        results[(label, busy)].append(measure())
    print(f"{path.name}, 1 thread, {args.calls} calls a row, {args.rounds} rounds alternated; "
          f"CPU us per call (this thread), median of rounds")
    head = "| before each call | CPU us | x back to back |" + \
           (" with idle spinners: CPU us | x back to back |" if len(settings) > 1 else "")
    print(head + "\n" + "|---" * (head.count("|") - 1) + "|")
    base = {b: statistics.median(results[("back to back", b)]) for b in settings}
    for label in rows:
        cells = []
        for busy in settings:
            value = statistics.median(results[(label, busy)])
            cells += [f"{value:.0f}", f"{value / base[busy]:.2f}"]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
