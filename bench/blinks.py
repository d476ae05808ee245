"""Blink detection against closures labelled by hand (bench/data/blink_labels.json).

    python -m bench.blinks --videos DIR [--points 68] [--weights PATH]

For each labelled video found under DIR (searched recursively by file name):
the app's `blink` flag frame by frame, and the same blink detector fed by
dlib's 68 points (the label teacher) as a reference. Event level: a flagged
run of frames is a true positive if it overlaps a labelled closure;
precision = true flagged runs / flagged runs, recall = labelled closures hit /
labelled closures. Frame level: closed frames against flagged frames, leaving
out the ranges labelled ambiguous. Needs requirements-train.txt (dlib).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from core.config import BlinkConfig, PipelineConfig, SmoothingConfig
from core.face_measures import BlinkDetector, eye_aspect_ratios
from core.pipeline import LandmarkPipeline
from core.sources import open_source

LABELS = Path(__file__).resolve().parent / "data" / "blink_labels.json"


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) of each run of True."""
    out, start = [], None
    for i, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def overlaps(a: tuple[int, int], b: tuple[int, int], slack: int = 1) -> bool:
    return a[0] <= b[1] + slack and b[0] <= a[1] + slack


def scores(flags: np.ndarray, closed: list[list[int]], ambiguous: list[list[int]]) -> dict[str, float]:
    detected = runs(flags)
    labelled = [tuple(c) for c in closed]
    tp_runs = sum(any(overlaps(d, c) for c in labelled) for d in detected)
    hit = sum(any(overlaps(d, c) for d in detected) for c in labelled)
    truth = np.zeros(len(flags), bool)
    keep = np.ones(len(flags), bool)
    for s, e in closed:
        truth[s:e + 1] = True
    for s, e in ambiguous:
        keep[s:e + 1] = False
    tp = int((flags & truth & keep).sum())
    return {"runs": len(detected), "events": len(labelled), "event_precision": tp_runs / len(detected) if detected else
            float("nan"), "event_recall": hit / len(labelled), "frame_precision": tp / max(int((flags & keep).sum()), 1),
            "frame_recall": tp / max(int((truth & keep).sum()), 1)}


def flags_ours(video: Path, points: int, weights: Path | None) -> np.ndarray:
    pipe = LandmarkPipeline(PipelineConfig(points=points, weights=weights, smoothing=SmoothingConfig(enabled=False)))
    pipe.prepare_for_source(live=False)
    flags = []
    for frame in open_source(video):
        result = pipe.process(frame.image, frame.timestamp)
        flags.append(bool(result.faces and result.faces[0].blink))
    pipe.close()
    return np.array(flags)


def flags_dlib(video: Path) -> np.ndarray:
    from training.teachers import LabelTeacher
    teacher = LabelTeacher()
    blinks = BlinkDetector(BlinkConfig())
    flags = []
    for frame in open_source(video):
        faces = teacher.plain(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY))
        if not faces:
            flags.append(False)
            continue
        pts = faces[0].astype(float)
        flags.append(blinks.update(float(np.mean(eye_aspect_ratios(pts))), frame.timestamp))
    return np.array(flags)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, required=True, help="folder searched for the labelled videos")
    parser.add_argument("--points", type=int, default=68)
    parser.add_argument("--weights", type=Path)
    args = parser.parse_args(argv)
    labels = json.loads(LABELS.read_text())["videos"]
    print("| video | frames | closures labelled | landmarks | flagged runs | event precision | event recall | "
          "frame precision | frame recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    for item in labels:
        found = sorted(args.videos.rglob(item["file"]))
        if not found:
            print(f"| {item['file']} | not found under {args.videos} |")
            continue
        for name, flags in (("ours", flags_ours(found[0], args.points, args.weights)), ("dlib", flags_dlib(found[0]))):
            s = scores(flags, item["closed"], item["ambiguous"])
            print(f"| {item['file']} | {len(flags)} | {s['events']} | {name} | {s['runs']} | {s['event_precision']:.2f} | "
                  f"{s['event_recall']:.2f} | {s['frame_precision']:.2f} | {s['frame_recall']:.2f} |")


if __name__ == "__main__":
    main()
