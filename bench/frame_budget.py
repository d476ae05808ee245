"""Where a frame's CPU goes: each piece of the work timed alone, against what a headless run spends.

    python -m bench.frame_budget                        # WolfgangLanger_Pexels.mp4 from the corpus cache
    python -m bench.frame_budget --video talk.mp4 --model default small

For each model, on one face of the clip (the pipeline's own state after a few
frames of tracking): every call a headless video frame makes, timed alone
(best of `--repeats` rounds of `--calls` calls, microseconds), in the order a
frame makes them. The detector runs once in `redetect_every` + 1 frames, so
its share per frame is its cost divided by that (in a thread of its own while
faces are tracked, core/face_search.py: off the frame's chain, not off the CPU). The sum is the frame's work
on one core. Below it, headless runs of the whole clip (`core.headless`, CSV
written, as `main.py --headless` runs; and once more with neither read-ahead
nor overlap, one frame after the other in one thread): wall microseconds per
frame and CPU microseconds per frame (all threads: `time.process_time`). Last,
MediaPipe's face mesh loop of bench/versus.py, its wall and CPU per frame.

Read the two together. The sum is a lower bound: alone, in a loop, each piece
finds its weights and buffers in the cache; inside a run the other pieces
have evicted them, and the video decoder runs its own threads. The last row
says how much more the same work costs inside a run; the serial run shows
that this is not the threads' doing. And a frame's pieces run
in three threads (video decoding read ahead, the next frame's face network,
this frame's finish), so on two cores the wall time is below the CPU time.
Timings belong here, never in pass/fail tests: machines are shared and noisy.
"""
from __future__ import annotations

import argparse
import itertools
import re
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import cv2
import numpy as np

from bench.versus import MEDIAPIPE, default_video
from core.config import MODEL_SIZES, PipelineConfig
from core.eyelids import EYES_68, eye_crops
from core.face_measures import eye_aspect_ratios, mouth_opening
from core.headless import open_run, run_headless
from core.read_ahead import READ_AHEAD_FRAMES
from core.pipeline import LandmarkPipeline
from core.recorder import CsvRecorder
from core.sources import open_source
from core.threads import default_model_threads, set_thread_counts


def best_us(fn, calls: int, repeats: int) -> float:
    """Microseconds per call: the best of `repeats` rounds (the least disturbed by the machine)."""
    fn()
    return min(timeit.repeat(fn, number=calls, repeat=repeats)) / calls * 1e6


def decode_cost(video: Path, frames: int) -> float:
    """Microseconds to read one frame of `video` and turn it RGB, as the read-ahead thread does
    (OpenCV's threads set as the app sets them)."""
    set_thread_counts(default_model_threads())
    cap = cv2.VideoCapture(str(video))
    n, start = 0, time.process_time()          # CPU, all threads: the decoder has its own
    while n < frames:
        ok, frame = cap.read()
        if not ok:
            break
        cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        n += 1
    cap.release()
    if n == 0:
        raise SystemExit(f"cannot read frames from {video}")
    return (time.process_time() - start) / n * 1e6


def pieces(video: Path, model: str, calls: int, repeats: int) -> list[tuple[str, float, bool]]:
    """(piece, microseconds per frame, counted in the sum) for one model on one face of `video`."""
    pipe = LandmarkPipeline(PipelineConfig(model=model, detector_range="full"))
    try:
        pipe.prepare_for_source(live=False)
        source = open_source(str(video))
        rgb, result = None, None
        for _, frame in zip(range(15), source):
            rgb, result = frame.image, pipe.process(frame.image, frame.timestamp)
        source.close()
        if result is None or not result.faces or not pipe.tracker.tracks:
            raise SystemExit(f"no face tracked in the first frames of {video}")
        track, predictor = pipe.tracker.tracks[0], pipe.predictor
        crops = [track.crop]
        patches = predictor.crops(rgb, crops)
        located = predictor.locate(patches)
        points = predictor.to_frame(*located, crops)[0].points
        camera = pipe.config.camera.for_frame(rgb.shape[1], rgb.shape[0])
        eye_patches, _ = eye_crops(rgb, points, pipe.eyelids.crop, EYES_68) if pipe.eyelids else (None, None)
        eye_batch = np.ascontiguousarray(eye_patches.transpose(0, 3, 1, 2), dtype=np.float32) \
            if eye_patches is not None else None
        recorder = CsvRecorder(Path(tempfile.mkdtemp()) / "budget.csv", pipe.config.points)
        every = pipe.config.redetect_every + 1        # a detection, then `redetect_every` tracked frames
        clock = itertools.count(frame.timestamp + 1 / 30, 1 / 30)    # the filter's time must advance
        timed = [
            (f"detector (full range), once in {every} frames",
             best_us(lambda: pipe.detector.detect(rgb), max(calls // 20, 5), repeats) / every, True),
            ("face crop (warp)", best_us(lambda: predictor.crops(rgb, crops), calls, repeats), True),
            ("face network + heatmap decode (ORT: the decode in its graph, as the app runs it)",
             best_us(lambda: predictor.locate(patches), calls, repeats), True),
            ("landmarks to the frame", best_us(lambda: predictor.to_frame(*located, crops), calls, repeats), True),
            ("next crop (tracker.follow)", best_us(lambda: pipe.tracker.follow(track, points), calls, repeats), True),
        ]
        if pipe.mesh_blend is not None:
            scale = pipe.model_config.landmark_scale
            mirror = pipe.config.mirrors()
            timed += [(f"mesh blend: the face mesh on the same crop{' and its mirror image' if mirror else ''}, "
                       "read as 68 points",
                       best_us(lambda: pipe.mesh_blend.blend(rgb, [points], crops, scale, mirror), calls, repeats),
                       True)]
        if pipe.eyelids is not None:
            timed += [
                ("eyelids: crops, network, back to the frame",
                 best_us(lambda: pipe.eyelids.refine(rgb, [points]), calls, repeats), True),
                ("... of which the 2 eye crops (warps)",
                 best_us(lambda: eye_crops(rgb, points, pipe.eyelids.crop, EYES_68), calls, repeats), False),
                ("... of which the eyelid network (ORT, 2 eyes)",
                 best_us(lambda: pipe.eyelids.runner(eye_batch), calls, repeats), False),
            ]
        timed += [
            ("smoothing", best_us(lambda: pipe.tracker.update(track, points, 0.9, next(clock), True), calls, repeats),
             True),
            ("head pose (PnP)", best_us(lambda: pipe.head_pose.estimate(track.points, camera, track.pose),
                                        calls, repeats), True),
            ("eyes and mouth", best_us(lambda: (eye_aspect_ratios(track.raw_points),
                                                mouth_opening(track.raw_points)), calls, repeats), True),
            ("CSV row", best_us(lambda: recorder.write_frame(0, 0.0, result.faces, video.name), calls, repeats),
             True),
        ]
        recorder.close()
        return timed
    finally:
        pipe.close()


def mediapipe_run(video: Path) -> tuple[float, float, int]:
    """(wall ms per frame, CPU ms per frame, frames) of MediaPipe's face mesh loop, in its own process."""
    result = subprocess.run([sys.executable, "-c", MEDIAPIPE, str(video)], capture_output=True, text=True,
                            timeout=1200)
    found = re.search(r"FPS ([\d.]+) (\d+) CPU_MS ([\d.]+)", result.stdout)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"MediaPipe's loop failed: {result.stderr[-500:]}")
    return 1e3 / float(found.group(1)), float(found.group(3)), int(found.group(2))


def headless_run(video: Path, model: str, serial: bool = False) -> tuple[float, float, int]:
    """(wall ms per frame, CPU ms per frame, frames) of one headless run of the whole clip;
    `serial`: no read-ahead thread, no overlap (every piece in this thread, one after the other)."""
    out = Path(tempfile.mkdtemp()) / "run.csv"
    pipeline, recorder = open_run(PipelineConfig(model=model, overlap_frames=not serial), out)
    try:
        cpu = time.process_time()
        summary = run_headless(open_source(str(video)), pipeline, recorder, progress=False,
                               read_ahead=0 if serial else READ_AHEAD_FRAMES)
        cpu = time.process_time() - cpu
    finally:
        pipeline.close()
    return summary.seconds / summary.frames * 1e3, cpu / summary.frames * 1e3, summary.frames


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path)
    parser.add_argument("--model", nargs="+", default=["default", "small"], choices=sorted(MODEL_SIZES))
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    video = args.video or default_video(Path(tempfile.mkdtemp()))

    decode = decode_cost(video, 300)
    table = {m: pieces(video, m, args.calls, args.repeats) for m in args.model}
    runs = {m: headless_run(video, m) for m in args.model}
    serial = {m: headless_run(video, m, serial=True) for m in args.model}
    mp_wall, mp_cpu, _ = mediapipe_run(video)
    print(f"video: {video.name}; microseconds per frame, one face, each piece alone (best of {args.repeats} "
          f"rounds of {args.calls} calls)\n")
    print("| piece | " + " | ".join(args.model) + " |")
    print("|---|" + "---|" * len(args.model))
    print("| video decoding + RGB (the read-ahead thread; CPU, all threads) | " +
          " | ".join(f"{decode:.0f}" for _ in args.model) + " |")
    sums = {m: decode for m in args.model}
    names: list[tuple[str, bool]] = []            # every model's pieces, in order (a model may lack some)
    for m in args.model:
        for name, _, counted in table[m]:
            if (name, counted) not in names:
                names.append((name, counted))
    for name, counted in names:
        values = {m: dict((n, v) for n, v, _ in table[m]).get(name) for m in args.model}
        if counted:
            for m, v in values.items():
                sums[m] += v or 0.0
        print(f"| {name} | " + " | ".join("-" if v is None else f"{v:.0f}" for v in values.values()) + " |")
    print("| **sum: one frame's work on one core** | " + " | ".join(f"**{sums[m]:.0f}**" for m in args.model) + " |")
    for label, run in (("headless run", runs), ("serial run (no read-ahead, no overlap)", serial)):
        print(f"| {label}: wall per frame | " + " | ".join(f"{run[m][0] * 1e3:.0f}" for m in args.model) + " |")
        print(f"| {label}: CPU per frame (all threads) | " +
              " | ".join(f"{run[m][1] * 1e3:.0f}" for m in args.model) + " |")
        print(f"| {label}: CPU per frame / the sum | " +
              " | ".join(f"{run[m][1] * 1e3 / sums[m]:.2f}x" for m in args.model) + " |")
    print(f"\nMediaPipe's face mesh with its own tracking (bench/versus.py's loop, video decoding included): "
          f"wall {mp_wall * 1e3:.0f} us per frame, CPU {mp_cpu * 1e3:.0f} us per frame (all threads).")
    print(f"\n(pieces not listed: Python between the calls, the threads' hand-overs; "
          f"frames per run: {', '.join(str(runs[m][2]) for m in args.model)})")


if __name__ == "__main__":
    main()
