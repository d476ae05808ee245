"""The 3D mean face head pose is solved against: data in assets/, read here.

`assets/mean_face_68.json` holds the 68 iBUG points in millimetres, averaged
from MediaPipe's 3D face mesh on near-frontal training faces by
`python -m training.mean_face` (which says how, and writes the file). It is
generated data, not code: the training toolchain writes a file, the run-time
library only reads it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.config import REPO_ROOT

MEAN_FACE_FILE = REPO_ROOT / "assets" / "mean_face_68.json"


def load_mean_face(path: Path = MEAN_FACE_FILE) -> np.ndarray:
    """(68, 3) millimetres, OpenFace's camera axes (x right, y down, z away), origin between the
    outer eye corners; read-only."""
    points = np.array(json.loads(Path(path).read_text())["points_mm"], dtype=np.float64)
    if points.shape != (68, 3) or not np.isfinite(points).all():
        raise ValueError(f"{path}: expected 68 finite 3D points, got an array of shape {points.shape}")
    points.setflags(write=False)
    return points


MEAN_FACE_68 = load_mean_face()
