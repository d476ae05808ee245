"""Eyelid labels from MediaPipe's refined face mesh, in dlib's 68-point layout.

    python -m training.eyelid_labels --cache cache/corpus2 --sheet weights/eyelid_contact_sheet.jpg

dlib's predictor (the corpus's label teacher) barely closes the lids of an
eye it is unsure of, and our students learnt that; the refined mesh
(`refine_landmarks=True`: its own eye sub-network) follows the lids (its EAR
tracks dlib's with slope 1.06 on an expressive video, where the plain mesh's
is 0.44). This replaces the lid points of every *training* face (36-47 but
the corners) with the mesh's, mapped onto dlib's layout:

- dlib's eye corners (36, 39, 42, 45) are kept: both models agree on them and
  every other label was placed relative to them;
- each mesh lid point is expressed in its eye's corner frame (u along the
  corner-to-corner line, v across it, in corner distances), then placed in
  dlib's corner frame through a per-point map fitted on open eyes where the
  two agree: u' = a u + c (the mesh spaces its lid points a little
  differently along the lid), v' = k v (through the origin: a lid the mesh
  closes, v = 0, is closed in the new label too).

Validation labels stay dlib's: the steering set measures against the same
labels as before. Writes `manifest_eyes.jsonl` beside the manifest (run
`training.corpus.synthesize --manifest manifest_eyes.jsonl` after it for
turned views with these lids), and a contact sheet of the most closed,
half-closed and squinting eyes, dlib's lids in red, the new ones in green.
"""
from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from core.face_measures import LEFT_EYE, RIGHT_EYE, eye_aspect_ratio
from core.geometry import Crop, eye_angle, warp_crop
from core.landmarks import LAYOUT_68
from core.images import read_rgb, write_image
from training.corpus.manifest import FaceRecord, read_manifest, write_manifest

log = logging.getLogger(__name__)

# dlib's 68-point eye -> the refined mesh's vertex at the same place (MediaPipe's EAR points).
# Per eye: (outer/inner corner, two upper-lid points, other corner, two lower-lid points), dlib's order.
MESH_EYE_68: dict[int, int] = {36: 33, 37: 160, 38: 158, 39: 133, 40: 153, 41: 144,
                               42: 362, 43: 385, 44: 387, 45: 263, 46: 373, 47: 380}
EYES = (RIGHT_EYE, LEFT_EYE)               # (36..41), (42..47): corners at positions 0 and 3
LIDS = tuple(i for eye in EYES for i in (eye[1], eye[2], eye[4], eye[5]))
OPEN_EAR = 0.22                            # both models read the eye open above this
AGREE = 0.15                               # ... and their EARs differ by at most this fraction


def corner_frame(points: np.ndarray, eye: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, float]:
    """(origin, unit x, scale): the eye's first corner, the direction to its other corner, their distance."""
    a, b = np.asarray(points[eye[0]], float), np.asarray(points[eye[3]], float)
    d = b - a
    scale = float(np.linalg.norm(d))
    return a, d / max(scale, 1e-9), max(scale, 1e-9)


def to_uv(p: np.ndarray, frame: tuple[np.ndarray, np.ndarray, float]) -> np.ndarray:
    origin, x, scale = frame
    q = (np.asarray(p, float) - origin) / scale
    return np.array([q @ x, q @ np.array([-x[1], x[0]])])


def from_uv(uv: np.ndarray, frame: tuple[np.ndarray, np.ndarray, float]) -> np.ndarray:
    origin, x, scale = frame
    return origin + scale * (uv[0] * x + uv[1] * np.array([-x[1], x[0]]))


def mesh_eyes(mesh: np.ndarray) -> np.ndarray:
    """(68, 2) with the mesh's eye points at 36-47 (the rest zero): dlib's layout, mesh positions."""
    out = np.zeros((68, 2))
    for i, m in MESH_EYE_68.items():
        out[i] = mesh[m, :2]
    return out


@dataclass(frozen=True)
class EyelidMap:
    """Per lid point: u' = a u + c, v' = k v (corner frames of the mesh -> of dlib)."""

    a: dict[int, float]
    c: dict[int, float]
    k: dict[int, float]
    faces: int = 0                         # open-eyed, agreeing faces it was fitted on

    def apply(self, dlib_points: np.ndarray, mesh: np.ndarray) -> np.ndarray:
        """dlib's 68 points with the lids (37, 38, 40, 41, 43, 44, 46, 47) from the mesh; corners kept."""
        out = np.array(dlib_points, np.float64, copy=True)
        eyes = mesh_eyes(mesh)
        for eye in EYES:
            theirs, ours = corner_frame(eyes, eye), corner_frame(out, eye)
            for i in (eye[1], eye[2], eye[4], eye[5]):
                u, v = to_uv(eyes[i], theirs)
                out[i] = from_uv(np.array([self.a[i] * u + self.c[i], self.k[i] * v]), ours)
        return out.astype(np.float32)

    def to_json(self) -> dict:
        return {"faces": self.faces, **{str(i): [self.a[i], self.c[i], self.k[i]] for i in LIDS}}


def open_and_agreeing(dlib_points: np.ndarray, mesh: np.ndarray) -> bool:
    eyes = mesh_eyes(mesh)
    for eye in EYES:
        ours, theirs = eye_aspect_ratio(dlib_points, eye), eye_aspect_ratio(eyes, eye)
        if min(ours, theirs) < OPEN_EAR or abs(ours - theirs) > AGREE * ours:
            return False
    return True


def fit_map(pairs: list[tuple[np.ndarray, np.ndarray]]) -> EyelidMap:
    """Least squares over open-eyed faces where both agree; one refit without the worst 10%."""
    chosen = [(d, m) for d, m in pairs if open_and_agreeing(d, m)]
    if len(chosen) < 20:
        raise ValueError(f"only {len(chosen)} open-eyed faces where dlib and the mesh agree; need 20")

    def solve(faces):
        a, c, k, residual = {}, {}, {}, np.zeros(len(faces))
        for eye in EYES:
            for i in (eye[1], eye[2], eye[4], eye[5]):
                src = np.array([to_uv(mesh_eyes(m)[i], corner_frame(mesh_eyes(m), eye)) for _, m in faces])
                dst = np.array([to_uv(d[i], corner_frame(d, eye)) for d, _ in faces])
                (a[i], c[i]), *_ = np.linalg.lstsq(np.column_stack([src[:, 0], np.ones(len(src))]), dst[:, 0],
                                                   rcond=None)
                k[i] = float(src[:, 1] @ dst[:, 1] / max(src[:, 1] @ src[:, 1], 1e-12))
                residual += np.hypot(a[i] * src[:, 0] + c[i] - dst[:, 0], k[i] * src[:, 1] - dst[:, 1])
        return EyelidMap({i: float(v) for i, v in a.items()}, {i: float(v) for i, v in c.items()}, k,
                         len(faces)), residual

    first, residual = solve(chosen)
    keep = residual <= np.quantile(residual, 0.9)
    return solve([f for f, ok in zip(chosen, keep) if ok])[0]


def mean_ear(points: np.ndarray) -> float:
    return float(np.mean([eye_aspect_ratio(points, eye) for eye in EYES]))


def eye_tile(rgb: np.ndarray, old: np.ndarray, new: np.ndarray, size: int = 200) -> np.ndarray:
    """Both eyes, dlib's lids in red and the new ones in green, with both EARs written on."""
    eyes = np.asarray(old, float)[36:48]
    x0, y0 = eyes.min(0)
    x1, y1 = eyes.max(0)
    side = 1.3 * max(x1 - x0, 1.0)
    crop = Crop((x0 + x1) / 2, (y0 + y1) / 2, side, eye_angle(np.asarray(old, float), LAYOUT_68))
    scale = size / crop.side
    image = rgb.copy()
    for points, colour in ((old, (255, 60, 60)), (new, (60, 255, 60))):
        for eye in EYES:
            poly = np.round(np.asarray(points, float)[list(eye)] * 16).astype(np.int32)
            cv2.polylines(image, [poly], True, colour, max(1, int(round(1 / scale))), cv2.LINE_AA, shift=4)
    tile = warp_crop(image, crop, size)
    cv2.putText(tile, f"dlib {mean_ear(old):.2f} new {mean_ear(new):.2f}", (4, size - 6),
                cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def relabel(cache: Path, manifest: str = "manifest.jsonl", out: str = "manifest_eyes.jsonl",
            sheet: Path | None = None, limit_sheet: int = 48) -> tuple[Path, EyelidMap, dict]:
    from training.contact_sheet import grid
    from training.corpus.face_mesh import FaceMesh3D
    records = read_manifest(cache / manifest)
    mesher = FaceMesh3D()
    meshes: dict[int, np.ndarray] = {}
    for index, rec in enumerate(tqdm(records, desc="refined mesh", unit="face")):
        if rec.split != "train" or len(rec.points) != 68:
            continue
        mesh = mesher.mesh(read_rgb(cache / rec.image), rec.points_array())
        if mesh is not None:
            meshes[index] = mesh
    mesher.close()
    eyelid_map = fit_map([(records[i].points_array().astype(np.float64), m) for i, m in meshes.items()])
    relabelled: list[FaceRecord] = []
    changes = []
    for index, rec in enumerate(records):
        if index not in meshes:
            relabelled.append(rec)
            continue
        old = rec.points_array().astype(np.float64)
        new = eyelid_map.apply(old, meshes[index])
        changes.append((index, mean_ear(old), mean_ear(new)))
        relabelled.append(replace(rec, points=np.round(new, 2).tolist(),
                                  extra={**rec.extra, "eyelids": "refined mesh", "ear_dlib": round(mean_ear(old), 3)}))
    path = cache / out
    write_manifest(path, relabelled)
    ears = np.array([(o, n) for _, o, n in changes])
    stats = {"train_faces": sum(r.split == "train" for r in records), "relabelled": len(changes),
             "closed_dlib": int((ears[:, 0] < 0.15).sum()), "closed_new": int((ears[:, 1] < 0.15).sum()),
             "mean_ear_dlib": round(float(ears[:, 0].mean()), 3), "mean_ear_new": round(float(ears[:, 1].mean()), 3)}
    if sheet is not None:
        # The most closed eyes by the new labels, then half closed, then squinting (new much lower than dlib).
        by_new = sorted(changes, key=lambda c: c[2])
        squint = sorted(changes, key=lambda c: c[2] - c[1])
        half = [c for c in by_new if 0.12 <= c[2] <= 0.2]
        picks, seen = [], set()
        for group in (by_new[:limit_sheet // 3], half[:limit_sheet // 3], squint[:limit_sheet // 3]):
            for c in group:
                if c[0] not in seen:
                    seen.add(c[0])
                    picks.append(c[0])
        tiles = [eye_tile(read_rgb(cache / records[i].image), records[i].points_array(),
                          np.array(relabelled[i].points)) for i in picks]
        sheet.parent.mkdir(parents=True, exist_ok=True)
        write_image(sheet, grid(tiles, 8))
    (cache / (Path(out).stem + "_map.json")).write_text(json.dumps({"map": eyelid_map.to_json(), **stats}, indent=1))
    return path, eyelid_map, stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("cache/corpus2"))
    parser.add_argument("--manifest", default="manifest.jsonl")
    parser.add_argument("--out", default="manifest_eyes.jsonl")
    parser.add_argument("--sheet", type=Path, help="contact sheet of the closed, half-closed and squinting eyes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path, eyelid_map, stats = relabel(args.cache, args.manifest, args.out, args.sheet)
    log.info("%s: %s (map fitted on %d open-eyed faces)", path, json.dumps(stats), eyelid_map.faces)


if __name__ == "__main__":
    main()
