"""Per-stage timings and end-to-end FPS of the landmark pipeline on a face video.

    python -m bench.pipeline_stages                       # the astronaut clip (made on the fly)
    python -m bench.pipeline_stages --video franck.mp4    # any real face video
    python -m bench.pipeline_stages --model default small # both shipped sizes, side by side in one run
    python -m bench.pipeline_stages --model accurate:plain accurate:mirror   # test-time mirroring's cost
    python -m bench.pipeline_stages --model default small --modes serial overlap   # core/frame_overlap.py's gain

Each model runs in each mode (`serial`: `process` frame after frame; `overlap`: the next frame's
network in a worker thread while this one is finished, as a headless video runs), all alternated.
In overlap mode a stage's time is its wall time while the other half runs beside it.

Prints a table: mean / p50 / p95 milliseconds per stage (detect, crop,
model, decode, smooth), frames per second, and how often the detector ran.
Timings belong here, never in pass/fail tests: machines are shared and noisy.
"""
from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from core.config import MODEL_SIZES, PipelineConfig
from core.frame_overlap import process_overlapped
from core.pipeline import STAGES, LandmarkPipeline
from core.sources import Frame
from core.threads import default_model_threads
from core.synthetic_video import make_face_video


def read_frames(path: Path, limit: int) -> list[np.ndarray]:
    """The first `limit` frames of a video, decoded up front, RGB."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise SystemExit(f"cannot read frames from {path}")
    return frames


MIRROR_SUFFIXES = {"": None, "mirror": True, "plain": False}     # MODEL[:suffix] -> PipelineConfig.mirror


def model_spec(text: str) -> str:
    name, _, mirror = text.partition(":")
    if name not in MODEL_SIZES or mirror not in MIRROR_SUFFIXES:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(MODEL_SIZES)}, optionally :mirror or :plain")
    return text


def config_for(spec: str, args: argparse.Namespace, weights: Path | None = None) -> PipelineConfig:
    name, _, mirror = spec.partition(":")
    return PipelineConfig(points=args.points, model=name, weights=weights, detector_range="full",
                          num_threads=args.threads, mirror=MIRROR_SUFFIXES[mirror])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, help="face video (default: astronaut clip, 640x480)")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--points", type=int, default=68)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--model", nargs="+", default=["default"], type=model_spec, metavar="MODEL[:mirror|:plain]",
                        help=f"shipped model size(s) ({', '.join(MODEL_SIZES)}), each with or without test-time "
                             "mirroring (default: the model's own choice); several run one after the other on the "
                             "same frames, twice each in alternation, for a ratio measured in one run")
    parser.add_argument("--threads", type=int, default=default_model_threads(),
                        help="model threads (default: the app's, %(default)s here)")
    parser.add_argument("--modes", nargs="+", choices=("serial", "overlap"), default=["serial"])
    args = parser.parse_args(argv)

    video = args.video
    if video is None:
        video = make_face_video(Path(tempfile.mkdtemp()) / "astronaut.mp4", frames=args.frames)
    frames = read_frames(video, args.frames)       # decoded up front: decoding is not our cost
    runs = [(m, mode) for m in args.model for mode in args.modes]
    if len(runs) == 1:
        measure(frames, video, config_for(args.model[0], args, args.weights), args.modes[0] == "overlap")
        return
    fps: dict[tuple[str, str], list[float]] = {r: [] for r in runs}
    for _ in range(2):
        for model, mode in runs:
            fps[(model, mode)].append(measure(frames, video, config_for(model, args), mode == "overlap"))
    base = np.mean(fps[runs[0]])
    print(f"| model | mode | end-to-end frames/s (two runs) | x {runs[0][0]} {runs[0][1]} |\n|---|---|---|---|")
    for (model, mode), values in fps.items():
        print(f"| {model} | {mode} | {' / '.join(f'{v:.1f}' for v in values)} | {np.mean(values) / base:.2f} |")


def measure(frames: list[np.ndarray], video: Path, config: PipelineConfig, overlap: bool = False) -> float:
    """Print the per-stage table of one pipeline over `frames`; return its end-to-end frames/s."""
    pipe = LandmarkPipeline(config)
    pipe.prepare_for_source(live=False)
    for i, frame in enumerate(frames[:10]):        # warm-up
        pipe.process(frame, i / 30)
    pipe.reset()

    per_stage = {s: [] for s in STAGES}
    totals, faces, detector_runs = [], 0, 0
    start = time.perf_counter()
    if overlap:
        stream = [Frame(f, i, i / 30, video.name) for i, f in enumerate(frames)]
        results = (r for _, r in process_overlapped(pipe, stream))
    else:
        results = (pipe.process(frame, i / 30) for i, frame in enumerate(frames))
    t = time.perf_counter()
    for result in results:
        now = time.perf_counter()
        totals.append((now - t) * 1e3)              # from one frame's answer to the next
        t = now
        for s in STAGES:
            per_stage[s].append(result.timings[s])
        faces += len(result.faces)
        detector_runs += result.detector_ran
    wall = time.perf_counter() - start
    h, w = frames[0].shape[:2]

    mirrored = " (mirrored)" if config.mirrors() else ""
    print(f"model: {config.model}{mirrored}, {config.points} points, runtime {config.runtime}; video: {video.name} {w}x{h}, "
          f"{len(frames)} frames, {faces / len(frames):.2f} faces/frame, detector on {detector_runs} frames")
    mode = "overlap (core/frame_overlap.py)" if overlap else "serial"
    print(f"machine: {platform.processor() or platform.machine()}, threads {config.num_threads}, {mode}\n")
    print("| stage | mean ms | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for name, values in [*per_stage.items(), ("per frame (answer to answer)", totals)]:
        v = np.array(values)
        print(f"| {name} | {v.mean():.2f} | {np.percentile(v, 50):.2f} | {np.percentile(v, 95):.2f} |")
    print(f"\nend-to-end: {len(frames) / wall:.1f} frames/s\n")
    pipe.close()
    return len(frames) / wall


if __name__ == "__main__":
    main()
