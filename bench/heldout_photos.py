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
failed` counts every missed face as a failure too; the missed faces are listed under the table.
Accuracy, not timing: one run is the number.

`--manifest cache/corpus2/manifest.jsonl` (instead of `--photos`) measures the still photos of one
split of our own corpus the same way, their corpus labels as the annotations: the app's whole path
(detector, framing, second pass) on the steering set's photos, and in a last column the same found
faces framed from their labels instead (training.evaluate's framing; the model run as the app runs
it), so the difference is what the detector and framing cost.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
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


def manifest_photos(manifest: str, split: str, folder: Path) -> dict[str, list]:
    """The still photos of one split of a 68-point corpus manifest, linked (or copied) into `folder`
    under numbered names (two sources' photos may share a name): name -> its faces' samples
    (training.datasets.FaceSample; `labels_of` turns them into load_labels' form)."""
    from training.datasets import load_samples
    faces: dict[Path, list] = {}
    for sample in load_samples(manifest, split):
        if not sample.is_video_frame:
            faces.setdefault(sample.image.resolve(), []).append(sample)
    if not faces:
        raise ValueError(f"{manifest} has no still photos in its {split} split")
    folder.mkdir(parents=True, exist_ok=True)
    named: dict[str, list] = {}
    for i, (image, samples) in enumerate(sorted(faces.items())):
        if len(samples[0].points) != 68:
            raise ValueError(f"{manifest}: faces with {len(samples[0].points)} points; a 68-point manifest expected")
        name = f"{i:04d}_{image.name}"
        try:
            (folder / name).symlink_to(image)
        except OSError:                                   # no symlinks here (some Windows setups)
            shutil.copyfile(image, folder / name)
        named[name] = samples
    return named


def labels_of(named_samples: dict[str, list]) -> dict[str, list[np.ndarray]]:
    return {name: [np.asarray(s.points, dtype=np.float64) for s in samples] for name, samples in named_samples.items()}


def label_framed_errors(model: str, points: int, samples: list, app_args: list[str] = ()) -> np.ndarray:
    """Each sample's NME with its crop framed from its label (training.evaluate's framing) and the
    model run as the app runs photos with `app_args` (its mirroring, mesh blend and eyelids, from the
    PipelineConfig main.py makes of them): beside the app's own answers, what its detector and
    framing cost."""
    from core.model import load_checkpoint
    from core.pipeline import second_looks
    from main import build_parser, make_config
    from training.evaluate import face_errors, runner_for
    config = make_config(build_parser().parse_args(["--source", "-", *app_args]), points, model)
    path = config.weights_path()
    network = load_checkpoint(path).model
    eyelids, blend = second_looks(config, still=True)     # photos, as the app runs them
    runner = runner_for(network, path, "auto", config.mirrors(still=True))
    return face_errors(network, samples, runner, eyelids, blend, mirror=config.mirrors(still=True))


def add_photo_arguments(parser: argparse.ArgumentParser) -> None:
    """--photos DIR [--labels FILE] or --manifest FILE [--split NAME]: where the annotated photos come from."""
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--photos", type=Path, help="folder of annotated photos")
    inputs.add_argument("--manifest", help="instead: the still photos of a corpus manifest's --split, "
                                          "its labels as the annotations")
    parser.add_argument("--split", default="val", help="with --manifest (default: val, the steering set's)")
    parser.add_argument("--labels", type=Path, help="annotations as JSON (default: .pts files beside the photos)")


def annotated_photos(args: argparse.Namespace, scratch: Path) -> tuple[Path, dict[str, list[np.ndarray]], dict[str, list]]:
    """(the photos' folder, their labels, and with --manifest each photo's samples) from
    `add_photo_arguments`' options; a manifest's photos are linked into `scratch`. Raises ValueError
    (or OSError) with the one line to show."""
    if args.photos is not None and not args.photos.is_dir():
        raise ValueError(f"--photos {args.photos}: no such folder")
    if args.manifest is None:
        return args.photos, load_labels(args.photos, args.labels), {}
    if args.labels is not None:
        raise ValueError("--labels goes with --photos; a manifest carries its own labels")
    photos = scratch / "photos"
    named_samples = manifest_photos(args.manifest, args.split, photos)
    return photos, labels_of(named_samples), named_samples


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
    add_photo_arguments(parser)
    parser.add_argument("--models", nargs="+", default=["default", "small", "accurate"])
    parser.add_argument("--points", nargs="+", type=int, default=[68], choices=(68, 98))
    parser.add_argument("--classics", nargs="*", default=[], help="photo file names reported apart as the classics")
    parser.add_argument("--app-args", default="",
                        help="more options for main.py, after an = (e.g. --app-args=--no-mirror, or "
                             "--app-args='--no-mirror --no-eyelids')")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            photos, labels, named_samples = annotated_photos(args, Path(scratch))
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        total = sum(len(faces) for faces in labels.values())
        where = f"{args.manifest}, {args.split} split" if args.manifest else args.photos
        print(f"{total} annotated faces in {len(labels)} photos ({where})\n")
        print("| model | points | found | mean NME | FR@0.10 | FR, missed as failed | classics | small faces (<60 px) "
              "| the found faces framed from their labels |")
        print("|---|---|---|---|---|---|---|---|---|")
        missed: list[str] = []
        for points in args.points:
            for model in args.models:
                if points not in shipped_layouts(model):
                    continue                                  # e.g. small ships in 68 points only
                csv_path = Path(scratch) / f"{model}_{points}.csv"
                try:
                    run_app(photos, model, points, csv_path, args.app_args.split())
                except RuntimeError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                answers = read_answers(csv_path)
                matches = [m for name, faces in labels.items() for m in match_faces(name, faces, answers.get(name, []))]
                s = summarise(matches, set(args.classics))
                show = lambda value, form: "-" if np.isnan(value) else form.format(value)
                framed = float("nan")
                if named_samples:                           # the same faces, framed from their labels
                    samples = [sample for name in labels for sample in named_samples[name]]
                    errors = label_framed_errors(model, points, samples, args.app_args.split())
                    found = np.array([m.answer is not None for m in matches])
                    framed = float(errors[found].mean()) if found.any() else float("nan")
                print(f"| {model} | {points}{' (68 shared)' if points == 98 else ''} | {s['found']} of {s['faces']} "
                      f"| {show(s['nme'], '{:.3f}')} | {show(100 * s['fr'], '{:.1f}%')} "
                      f"| {100 * s['fr_missed_failed']:.1f}% | {show(s['classics'], '{:.3f}')} "
                      f"| {show(s['small'], '{:.3f}')} | {show(framed, '{:.3f}')} |", flush=True)
                lost = [f"{m.photo} ({interocular(m.label, LAYOUT):.0f} px between the outer eye corners)"
                        for m in matches if m.answer is None]
                if lost:
                    missed.append(f"missed by {model} {points}: {', '.join(lost)}")
        if missed:
            print("\n" + "\n".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
