"""Jitter against lag of the landmark smoothing, side by side with dlib, on face videos.

    python -m bench.smoothing VIDEO [VIDEO ...] [--frames 600]
    python -m bench.smoothing VIDEO ... --grid            # also search min_cutoff x beta

On every frame: our raw points (smoothing off; the same tracking), dlib's
68-point predictor on its own HOG detection (the label teacher, as a dlib
user runs it), and our points after the smoothing settings under test,
applied to the same raw sequence with the app's filter (core/smoothing.py)
and the frames' own timestamps.

- jitter: mean |p(t+1) - 2 p(t) + p(t-1)| over points and frames, / interocular:
  frame-to-frame shake (a still face should give ~0; real motion adds a little);
- NME vs dlib: agreement with an independent answer; smoothing that lags
  moves points away from it.
Targets (issue 13): jitter <= 0.3 x dlib's, NME vs dlib at most 10% above the raw points'.
Needs requirements-train.txt (dlib).
"""
from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from core.config import PipelineConfig, SmoothingConfig
from core.landmarks import LAYOUT_68
from core.metrics import nme
from core.pipeline import LandmarkPipeline
from core.smoothing import OneEuroFilter
from core.sources import open_source


def tracks(video: Path, frames: int, crop_follow: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, ours raw (T, 68, 2), dlib (T, 68, 2)) on frames where both found one face."""
    from training.teachers import LabelTeacher
    teacher = LabelTeacher()
    config = PipelineConfig(points=68, smoothing=SmoothingConfig(enabled=False))
    if crop_follow is not None:
        config = replace(config, crop_follow=crop_follow)
    pipe = LandmarkPipeline(config)
    pipe.prepare_for_source(live=False)
    times, ours, theirs = [], [], []
    for frame in open_source(video):
        if frame.index >= frames:
            break
        result = pipe.process(frame.image, frame.timestamp)
        dlib_faces = teacher.plain(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY))
        if len(result.faces) != 1 or len(dlib_faces) != 1:
            continue
        times.append(frame.timestamp)
        ours.append(result.faces[0].raw_points)
        theirs.append(dlib_faces[0])
    pipe.close()
    return np.array(times), np.array(ours, np.float64), np.array(theirs, np.float64)


def jitter(points: np.ndarray) -> float:
    iod = np.linalg.norm(points[:, 36] - points[:, 45], axis=1)
    second = np.linalg.norm(points[2:] - 2 * points[1:-1] + points[:-2], axis=2).mean(axis=1)
    return float((second / iod[1:-1]).mean())


def agreement(points: np.ndarray, reference: np.ndarray) -> float:
    return float(np.mean([nme(p, r, LAYOUT_68) for p, r in zip(points, reference)]))


def smooth(times: np.ndarray, raw: np.ndarray, cfg: SmoothingConfig) -> np.ndarray:
    """The app's filter, as the tracker runs it (scale = the face's width in pixels)."""
    f = OneEuroFilter(cfg.min_cutoff, cfg.beta, cfg.d_cutoff, cfg.shared_speed)
    return np.array([f(p, t, float(np.ptp(p[:, 0]))) for t, p in zip(times, raw)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", nargs="+", type=Path)
    parser.add_argument("--frames", type=int, default=100000)
    parser.add_argument("--grid", action="store_true", help="also try a grid of min_cutoff x beta")
    parser.add_argument("--crop-follow", type=float,
                        help="how far a track's crop moves to each new answer (default: the app's)")
    args = parser.parse_args(argv)
    data = {v.name: tracks(v, args.frames, args.crop_follow) for v in args.videos}
    d = SmoothingConfig()
    settings = {"raw (no smoothing)": None,
                "before: per-coordinate speed, min_cutoff 1.0, beta 4, d_cutoff 1.0":
                    SmoothingConfig(min_cutoff=1.0, beta=4.0, d_cutoff=1.0, shared_speed=False),
                f"now (default): face-wide speed, min_cutoff {d.min_cutoff}, beta {d.beta:g}, d_cutoff {d.d_cutoff}": d}
    if args.grid:
        for shared, dc, mc, beta in itertools.product((False, True), (1.0, 1.5, 2.0), (0.5, 0.7, 1.0),
                                                       (4.0, 8.0, 16.0)):
            settings[f"{'face-wide' if shared else 'per-coordinate'} speed, min_cutoff {mc}, beta {beta:g}, "
                     f"d_cutoff {dc}"] = SmoothingConfig(min_cutoff=mc, beta=beta, d_cutoff=dc, shared_speed=shared)
    print("| video | frames | setting | jitter | x dlib's | NME vs dlib | x raw's |")
    print("|---|---|---|---|---|---|---|")
    for name, (times, raw, dlib_pts) in data.items():
        dlib_jitter, raw_nme = jitter(dlib_pts), agreement(raw, dlib_pts)
        print(f"| {name} | {len(times)} | dlib 68-point predictor | {dlib_jitter:.4f} | 1.00 | - | - |")
        for label, cfg in settings.items():
            pts = raw if cfg is None else smooth(times, raw, cfg)
            j, a = jitter(pts), agreement(pts, dlib_pts)
            print(f"| {name} | {len(times)} | {label} | {j:.4f} | {j / dlib_jitter:.2f} | {a:.4f} | "
                  f"{a / raw_nme:.2f} |")


if __name__ == "__main__":
    main()
