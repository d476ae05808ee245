"""Annotated photos of strangers, measured the way the issues measure them: through `main.py --headless`.

The teacher and distillation issues set their goals on photos we keep outside the repository (47
human-annotated faces in 13 photos): mean NME by the outer eye corners, FR@0.10, how many faces are
found, the classic portraits and the small faces apart. This script gives those numbers for any
folder of annotated photos, so whoever holds the photos checks a model with one command:

    python -m bench.heldout_photos --photos DIR --models default small accurate --points 68 98 \\
        --classics portrait1.jpg portrait2.jpg

Each model runs as the app runs: `main.py --headless --source DIR --csv ...` (the app's detector,
framing, mirroring, mesh blend and eyelids, whatever that model does by default), and its CSV's points
are matched to the annotations. 98-point answers are scored on their 68 shared points.

Annotations, 68 points in iBUG 300-W order, in pixels (0-based) of the photo as stored on disk:
- `--labels FILE.json`: {"photo.jpg": [[[x, y], ... 68], ...one list per face], ...}; or
- .pts files beside the photos (1-based, iBUG's convention): `NAME.pts` for a photo `NAME.jpg` with
  one face, `NAME_1.pts`, `NAME_2.pts`, ... for several.

Matching: a labelled face takes the nearest unused answer whose centroid lies within one outer-eye
distance of the label's centroid (nearest pairs first); a face with no such answer is missed. NME and
FR are over the found faces, as the issues report them beside the count found; `FR, missed as
failed` counts every missed face as a failure too. Accuracy, not timing: one run is the number.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import shipped_layouts
from core.landmarks import as_68, interocular, layout_for
from core.metrics import nme
from core.sources import IMAGE_EXTENSIONS
from training.datasets import read_pts

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = layout_for(68)
SMALL_FACE_PX = 60.0          # the issues' "small faces": interocular 15-60 px


@dataclass(frozen=True)
class Match:
    photo: str
    label: np.ndarray               # (68, 2)
    answer: np.ndarray | None       # (68, 2), None when the face was missed

    @property
    def error(self) -> float:
        return nme(self.answer, self.label, LAYOUT) if self.answer is not None else float("nan")


def load_labels(photos: Path, labels_json: Path | None = None) -> dict[str, list[np.ndarray]]:
    """Photo file name -> its labelled faces, each (68, 2)."""
    images = {p.name: p for p in photos.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}
    labels: dict[str, list[np.ndarray]] = {}
    if labels_json is not None:
        for name, faces in json.loads(labels_json.read_text()).items():
            labels[name] = [np.asarray(face, dtype=np.float64) for face in faces]
    else:
        by_stem = {p.stem: name for name, p in images.items()}
        for pts in sorted(photos.glob("*.pts")):
            stem = pts.stem if pts.stem in by_stem else re.sub(r"_\d+$", "", pts.stem)
            if stem not in by_stem:
                raise ValueError(f"{pts.name}: no photo {stem}.* beside it")
            labels.setdefault(by_stem[stem], []).append(read_pts(pts).astype(np.float64))
    for name, faces in labels.items():
        if name not in images:
            raise ValueError(f"labels name {name}, which is not a photo in {photos}")
        for face in faces:
            if face.shape != (68, 2):
                raise ValueError(f"{name}: a face with {len(face)} points; 68 expected")
    if not labels:
        raise ValueError(f"no annotations found for the photos in {photos} (.pts beside them, or --labels)")
    return labels


def read_answers(csv_path: Path) -> dict[str, list[np.ndarray]]:
    """Photo file name -> the app's answers (68 points, or 98 reduced to the 68 shared)."""
    answers: dict[str, list[np.ndarray]] = {}
    with open(csv_path, newline="") as handle:
        reader = csv.DictReader(handle)
        count = sum(1 for column in reader.fieldnames or [] if re.fullmatch(r"x_\d+", column))
        for row in reader:
            if row["success"] != "1":
                continue
            points = np.array([[float(row[f"x_{i}"]), float(row[f"y_{i}"])] for i in range(count)])
            answers.setdefault(row["source"], []).append(points if count == 68 else as_68(points))
    return answers


def match_faces(photo: str, labels: list[np.ndarray], answers: list[np.ndarray]) -> list[Match]:
    """Each labelled face with its answer (nearest centroids first, within one outer-eye distance)."""
    pairs = sorted((np.linalg.norm(a.mean(0) - l.mean(0)) / interocular(l, LAYOUT), li, ai)
                   for li, l in enumerate(labels) for ai, a in enumerate(answers))
    taken: dict[int, int] = {}
    used: set[int] = set()
    for distance, li, ai in pairs:
        if distance <= 1.0 and li not in taken and ai not in used:
            taken[li] = ai
            used.add(ai)
    return [Match(photo, label, answers[taken[li]] if li in taken else None) for li, label in enumerate(labels)]


def summarise(matches: list[Match], classics: set[str] = frozenset()) -> dict[str, float]:
    """The issues' columns: found, mean NME and FR@0.10 over found faces, the classics and the small faces."""
    found = [m for m in matches if m.answer is not None]
    errors = np.array([m.error for m in found])
    mean = lambda ms: float(np.mean([m.error for m in ms])) if ms else float("nan")
    return {
        "faces": len(matches),
        "found": len(found),
        "nme": float(errors.mean()) if len(errors) else float("nan"),
        "fr": float((errors > 0.10).mean()) if len(errors) else float("nan"),
        "fr_missed_failed": (int((errors > 0.10).sum()) + len(matches) - len(found)) / max(len(matches), 1),
        "classics": mean([m for m in found if m.photo in classics]),
        "small": mean([m for m in found if interocular(m.label, LAYOUT) < SMALL_FACE_PX]),
    }


def run_app(photos: Path, model: str, points: int, csv_path: Path, extra: list[str]) -> None:
    command = [sys.executable, str(ROOT / "main.py"), "--headless", "--source", str(photos), "--csv", str(csv_path),
               "--model", model, "--points", str(points), *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:])} failed: {done.stderr.strip().splitlines()[-1:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, required=True, help="folder of annotated photos")
    parser.add_argument("--labels", type=Path, help="annotations as JSON (default: .pts files beside the photos)")
    parser.add_argument("--models", nargs="+", default=["default", "small", "accurate"])
    parser.add_argument("--points", nargs="+", type=int, default=[68], choices=(68, 98))
    parser.add_argument("--classics", nargs="*", default=[], help="photo file names reported apart as the classics")
    parser.add_argument("--app-args", default="", help="more options for main.py, quoted (e.g. '--no-mirror')")
    args = parser.parse_args(argv)
    if not args.photos.is_dir():
        print(f"error: --photos {args.photos}: no such folder", file=sys.stderr)
        return 2
    try:
        labels = load_labels(args.photos, args.labels)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = sum(len(faces) for faces in labels.values())
    print(f"{total} annotated faces in {len(labels)} photos ({args.photos})\n")
    print("| model | points | found | mean NME | FR@0.10 | FR, missed as failed | classics | small faces (<60 px) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for points in args.points:
            for model in args.models:
                if points not in shipped_layouts(model):
                    continue                                  # e.g. small ships in 68 points only
                csv_path = Path(scratch) / f"{model}_{points}.csv"
                try:
                    run_app(args.photos, model, points, csv_path, args.app_args.split())
                except RuntimeError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                answers = read_answers(csv_path)
                matches = [m for name, faces in labels.items() for m in match_faces(name, faces, answers.get(name, []))]
                s = summarise(matches, set(args.classics))
                show = lambda value, form: "-" if np.isnan(value) else form.format(value)
                print(f"| {model} | {points}{' (68 shared)' if points == 98 else ''} | {s['found']} of {s['faces']} "
                      f"| {show(s['nme'], '{:.3f}')} | {show(100 * s['fr'], '{:.1f}%')} "
                      f"| {100 * s['fr_missed_failed']:.1f}% | {show(s['classics'], '{:.3f}')} "
                      f"| {show(s['small'], '{:.3f}')} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
