"""Rotations in OpenFace's convention (R = Rx * Ry * Rz) and 3D similarity alignment.

Pure numpy: used by head pose at run time and by the mean-face builder.
"""
from __future__ import annotations

import math

import numpy as np


def rotation_xyz(rx: float, ry: float, rz: float) -> np.ndarray:
    """R = Rx(rx) @ Ry(ry) @ Rz(rz)."""
    cx, sx, cy, sy, cz, sz = math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry), math.cos(rz), math.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_x @ rot_y @ rot_z


def euler_xyz(rotation: np.ndarray) -> tuple[float, float, float]:
    """(rx, ry, rz) with rotation = Rx(rx) @ Ry(ry) @ Rz(rz); ry in [-pi/2, pi/2]."""
    ry = math.asin(max(-1.0, min(1.0, float(rotation[0, 2]))))
    rx = math.atan2(-float(rotation[1, 2]), float(rotation[2, 2]))
    rz = math.atan2(-float(rotation[0, 1]), float(rotation[0, 0]))
    return rx, ry, rz


def rotation_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """The angle of the rotation taking `a` to `b` (geodesic distance), in degrees."""
    cos = (np.trace(a.T @ b) - 1.0) / 2.0
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def similarity_align(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Umeyama's least-squares similarity: scale s, rotation R, translation t with
    target ~ s * R @ source + t. Points are rows (N, 3)."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    a, b = source - mu_s, target - mu_t
    u, d, vt = np.linalg.svd(b.T @ a / len(source))
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign) / (a ** 2).sum(1).mean())
    return scale, rotation, mu_t - scale * rotation @ mu_s
