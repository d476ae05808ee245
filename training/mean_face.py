"""Build the 3D mean face of the 68 iBUG points that head pose is solved against.

    python -m training.mean_face --data cache/corpus/manifest.jsonl   # writes assets/mean_face_68.json

The mediapipe wheel ships no canonical face model, so the mean is averaged
from the face mesh's own 3D output on the corpus:
1. the refined mesh (478 points with depth) of every training face, mapped to
   the 68 points through the project's one mesh mapping (WFLW polylines
   resampled in 3D, then the standard WFLW -> 68 correspondence);
2. generalised Procrustes: each shape similarity-aligned to the running mean,
   three rounds, then only near-frontal faces (|yaw|, |pitch| < 15 degrees
   from the mean) averaged;
3. made exactly symmetric (averaged with its mirror image), turned so that a
   face looking into the camera has R = identity: eye corners level (roll 0),
   symmetric about x = 0 (yaw 0), and the line from the nose bridge (27) to
   the chin (8) at right angles to the camera axis (pitch 0): close to the
   anthropometric upright head (Frankfort plane horizontal, where the
   nasion-to-chin profile line stands within a few degrees of vertical);
4. centred on the midpoint of the outer eye corners and scaled to an average
   adult's outer-eye-corner (exocanthion) distance, 90 mm (Farkas'
   anthropometry: ~91 mm for men, ~88 mm for women).
Units are millimetres, axes as OpenFace's camera frame: x right, y down,
z away from the camera. Only the training split is used: the pose check
(bench/head_pose_check.py) runs on the held-out people.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.mean_face import MEAN_FACE_FILE
from core.rotations import euler_xyz, rotation_xyz, similarity_align
from core.landmarks import LAYOUT_68, WFLW_TO_68
from training.corpus.face_mesh import FaceMesh3D
from training.corpus.mesh_to_wflw import wflw_from_mesh
from training.datasets import load_samples, read_rgb_cached

log = logging.getLogger(__name__)
OUTER_EYE_CORNER_MM = 90.0
OUTPUT = MEAN_FACE_FILE


def mesh_68(mesh: np.ndarray) -> np.ndarray:
    """(478, 3) mesh -> (68, 3) iBUG points through the WFLW mapping."""
    return wflw_from_mesh(mesh).astype(np.float64)[list(WFLW_TO_68)]


def procrustes_mean(shapes: list[np.ndarray], rounds: int = 3) -> np.ndarray:
    mean = shapes[0] - shapes[0].mean(0)
    for _ in range(rounds):
        aligned = []
        for shape in shapes:
            s, r, t = similarity_align(shape, mean)
            aligned.append(s * shape @ r.T + t)
        mean = np.mean(aligned, axis=0)
        mean -= mean.mean(0)
        mean /= np.linalg.norm(mean[36] - mean[45])
    return mean


def canonical(mean: np.ndarray) -> np.ndarray:
    """Symmetric, facing the camera, origin between the outer eye corners, in millimetres."""
    mirrored = mean * np.array([-1.0, 1.0, 1.0])
    mirrored = mirrored[list(LAYOUT_68.flip_permutation)]
    s, r, t = similarity_align(mirrored, mean)
    mean = (mean + s * mirrored @ r.T + t) / 2
    # Roll and yaw: eye-corner line along x. Pitch: nose bridge (27) and chin (8) at equal depth.
    for _ in range(3):
        d = mean[45] - mean[36]
        yaw = math.atan2(d[2], d[0])
        roll = math.atan2(d[1], math.hypot(d[0], d[2]))
        mean = mean @ rotation_xyz(0.0, yaw, 0.0).T
        mean = mean @ rotation_xyz(0.0, 0.0, -roll).T
        v = mean[8] - mean[27]
        pitch = math.atan2(v[2], v[1])
        mean = mean @ rotation_xyz(-pitch, 0.0, 0.0).T
    mean -= (mean[36] + mean[45]) / 2
    mean *= OUTER_EYE_CORNER_MM / np.linalg.norm(mean[36] - mean[45])
    return mean


def collect(data: str, limit: int | None) -> list[np.ndarray]:
    samples = load_samples(data, "train")
    if limit:
        samples = samples[:: max(1, len(samples) // limit)][:limit]
    mesher = FaceMesh3D()
    shapes = []
    for s in tqdm(samples, desc="face mesh", unit="face"):
        mesh = mesher.mesh(read_rgb_cached(str(s.image)), s.points)
        if mesh is not None:
            shapes.append(mesh_68(mesh))
    mesher.close()
    return shapes


def build(data: str, limit: int | None = None, max_angle_deg: float = 15.0) -> tuple[np.ndarray, int, int]:
    shapes = collect(data, limit)
    if len(shapes) < 10:
        raise RuntimeError(f"only {len(shapes)} faces meshed from {data}; need at least 10")
    rough = procrustes_mean(shapes)
    frontal = []
    for shape in shapes:
        _, r, _ = similarity_align(rough, shape)
        rx, ry, _ = euler_xyz(r)
        if abs(math.degrees(rx)) < max_angle_deg and abs(math.degrees(ry)) < max_angle_deg:
            frontal.append(shape)
    return canonical(procrustes_mean(frontal)), len(frontal), len(shapes)


def write_mean_face(mean: np.ndarray, used: int, total: int, data: str, path: Path = OUTPUT) -> None:
    """Write the data file core/mean_face.py reads (two decimals: a hundredth of a millimetre)."""
    head = {"about": "3D mean face of the 68 iBUG points, millimetres (generated data).",
            "made_by": f"python -m training.mean_face --data {data}",
            "faces": {"near_frontal_used": used, "meshed": total},
            "axes": "OpenFace's camera frame: x right, y down, z away from the camera, for a face looking "
                    "into the camera",
            "origin": "midpoint of the outer eye corners (36, 45), which are 90 mm apart"}
    rows = ",\n".join(f"    [{x:.2f}, {y:.2f}, {z:.2f}]" for x, y, z in mean)
    fields = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items())
    path.write_text("{\n" + fields + ',\n  "points_mm": [\n' + rows + "\n  ]\n}\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="cache/corpus/manifest.jsonl", help="corpus manifest (its train split)")
    parser.add_argument("--limit", type=int, help="mesh at most this many faces (evenly spread)")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    mean, used, total = build(args.data, args.limit)
    write_mean_face(mean, used, total, args.data, args.out)
    log.info("%s: mean of %d near-frontal faces of %d meshed", args.out, used, total)


if __name__ == "__main__":
    main()
