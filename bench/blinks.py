"""Eyelids: the app's eye aspect ratio against dlib's, and blinks against closures labelled by hand.

    python -m bench.blinks --videos DIR [--model default small accurate] [--weights PATH]

For each labelled video (bench/data/blink_labels.json) found under DIR
(searched recursively by file name), and each model:
- EAR, frame by frame: the app's (mean of both eyes, from the unsmoothed
  points) against dlib's (its 68-point predictor on its own HOG detector,
  the label teacher) on frames where both found one face: the least-squares
  slope of ours on dlib's and Pearson's r. Slope 1 means our lids open and
  close as far as dlib's; below 1 they barely move.
- Blinks: the app's `blink` flag and the same blink detector fed by dlib's
  points. Event level: a flagged run of frames is a true positive if it
  overlaps a labelled closure; precision = true flagged runs / flagged runs,
  recall = labelled closures hit / labelled closures. Frame level: closed
  frames against flagged frames, leaving out the ranges labelled ambiguous.
Needs requirements-train.txt (dlib).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from core.config import MODEL_SIZES, BlinkConfig, PipelineConfig, SmoothingConfig
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


def run_ours(video: Path, points: int, model: str, weights: Path | None,
             eyelids: bool = True, eyelid_weights: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(blink flags, mean EAR or NaN) per frame, as the app computes them."""
    pipe = LandmarkPipeline(PipelineConfig(points=points, model=model, weights=weights, eyelids=eyelids,
                                           eyelid_weights=eyelid_weights,
                                           smoothing=SmoothingConfig(enabled=False)))
    pipe.prepare_for_source(live=False)
    flags, ears = [], []
    for frame in open_source(video):
        result = pipe.process(frame.image, frame.timestamp)
        face = result.faces[0] if len(result.faces) == 1 else None
        flags.append(bool(result.faces and result.faces[0].blink))
        ears.append((face.ear_left + face.ear_right) / 2 if face is not None else np.nan)
    pipe.close()
    return np.array(flags), np.array(ears)


def run_dlib(video: Path) -> tuple[np.ndarray, np.ndarray]:
    from training.teachers import LabelTeacher
    teacher = LabelTeacher()
    blinks = BlinkDetector(BlinkConfig())
    flags, ears = [], []
    for frame in open_source(video):
        faces = teacher.plain(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY))
        if len(faces) != 1:
            flags.append(False)
            ears.append(np.nan)
            continue
        ear = float(np.mean(eye_aspect_ratios(faces[0].astype(float))))
        flags.append(blinks.update(ear, frame.timestamp))
        ears.append(ear)
    return np.array(flags), np.array(ears)


def mesh_ear_points() -> tuple[tuple[int, ...], ...]:
    """MediaPipe's refined mesh, its six EAR points per eye in dlib's order (corner, upper, upper,
    corner, lower, lower): the mesh vertices our eyelid labels come from (training/eyelid_labels.py)."""
    from training.eyelid_labels import EYES, MESH_EYE_68
    return tuple(tuple(MESH_EYE_68[i] for i in eye) for eye in EYES)


def run_mesh(video: Path) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's refined face mesh with its own tracking: blink flags and mean EAR per frame."""
    from mediapipe.python.solutions import face_mesh
    from core.face_measures import eye_aspect_ratio
    mesh = face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=True)
    blinks = BlinkDetector(BlinkConfig())
    eyes = mesh_ear_points()
    flags, ears = [], []
    for frame in open_source(video):
        h, w = frame.image.shape[:2]
        found = mesh.process(frame.image).multi_face_landmarks
        if not found:
            flags.append(False)
            ears.append(np.nan)
            continue
        pts = np.array([[p.x * w, p.y * h] for p in found[0].landmark])
        ear = float(np.mean([eye_aspect_ratio(pts, eye) for eye in eyes]))
        flags.append(blinks.update(ear, frame.timestamp))
        ears.append(ear)
    mesh.close()
    return np.array(flags), np.array(ears)


def slope_and_r(ours: np.ndarray, dlib: np.ndarray) -> tuple[float, float, int]:
    """Least-squares slope of ours on dlib's, Pearson's r, and the frames both measured."""
    both = np.isfinite(ours) & np.isfinite(dlib)
    x, y = dlib[both], ours[both]
    if len(x) < 3:
        return float("nan"), float("nan"), int(both.sum())
    slope = float(np.polyfit(x, y, 1)[0])
    return slope, float(np.corrcoef(x, y)[0, 1]), int(both.sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, required=True, help="folder searched for the labelled videos")
    parser.add_argument("--points", type=int, default=68)
    parser.add_argument("--model", nargs="+", default=["default"], choices=MODEL_SIZES,
                        help="shipped model size(s), each measured on the same videos")
    parser.add_argument("--weights", type=Path, help="a checkpoint instead of the shipped models")
    parser.add_argument("--eyelids", choices=("on", "off", "both"), default="both",
                        help="the eyelid network (core/eyelids.py) on, off, or a row each (default)")
    parser.add_argument("--eyelid-weights", nargs="*", type=Path, default=[], metavar="ONNX",
                        help="other eyelid networks (training/eyelid_net.py --export ... --to): a row each, "
                             "beside the shipped one's")
    parser.add_argument("--ear-only", nargs="*", default=[], metavar="FILE",
                        help="more videos under --videos for the EAR comparison only (no labelled closures)")
    args = parser.parse_args(argv)
    labels = json.loads(LABELS.read_text())["videos"] + [{"file": f, "closed": None} for f in args.ear_only]
    print("| video | frames | closures labelled | landmarks | EAR slope vs dlib | EAR r | frames compared | "
          "flagged runs | event precision | event recall | frame precision | frame recall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    models = [(f"weights {args.weights.name}", "default")] if args.weights else [(m, m) for m in args.model]
    switches = {"on": [(True, None)], "off": [(False, None)], "both": [(False, None), (True, None)]}[args.eyelids]
    switches += [(True, path) for path in args.eyelid_weights]
    models = [(name if not on else f"{name} + eyelid net" + (f" {path}" if path else ""), size, on, path)
              for name, size in models for on, path in switches]
    for item in labels:
        found = sorted(args.videos.rglob(item["file"]))
        if not found:
            print(f"| {item['file']} | not found under {args.videos} |")
            continue
        reference = run_dlib(found[0])
        rows = [(name, run_ours(found[0], args.points, size, args.weights, on, path))
                for name, size, on, path in models]
        rows.append(("MediaPipe refined mesh", run_mesh(found[0])))
        for name, (flags, ears) in rows + [("dlib", reference)]:
            slope, r, both = slope_and_r(ears, reference[1])
            head = f"| {item['file']} | {len(flags)} | {len(item['closed'] or [])} | {name} | {slope:.2f} | {r:.3f} | {both}"
            if item["closed"] is None:
                print(head + " | - | - | - | - | - |")
                continue
            s = scores(flags, item["closed"], item["ambiguous"])
            print(f"{head} | {s['runs']} | {s['event_precision']:.2f} | {s['event_recall']:.2f} | "
                  f"{s['frame_precision']:.2f} | {s['frame_recall']:.2f} |")


if __name__ == "__main__":
    main()
