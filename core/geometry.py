"""Face crops as similarity transforms (centre, side, rotation) and their inverses.

A crop is a square of `side` frame pixels centred on `center`, rotated by
`angle` radians so that a tilted head appears upright to the network. The
same transform maps landmarks back from crop pixels to frame pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.config import DEFAULT_LANDMARK_SCALE
from core.landmarks import Layout
from core.results import Box


@dataclass(frozen=True)
class Crop:
    cx: float
    cy: float
    side: float
    angle: float = 0.0   # radians; the crop's x axis points along (cos a, sin a) in the frame

    def matrix(self, out_size: int) -> np.ndarray:
        """2x3 affine matrix taking frame pixels to crop pixels: q = q0 + s * R(-a) (p - c).
        (Plain floats: a face's crop is framed, warped and mapped back several times a frame,
        and numpy's per-call overhead on 2x2 arrays was most of the cost.)"""
        s = out_size / self.side
        c, si = math.cos(self.angle) * s, math.sin(self.angle) * s
        q0 = (out_size - 1) / 2.0
        return np.array([[c, si, q0 - (c * self.cx + si * self.cy)],
                         [-si, c, q0 - (-si * self.cx + c * self.cy)]])

    def inverse_matrix(self, out_size: int) -> np.ndarray:
        """2x3 affine matrix taking crop pixels back to frame pixels: p = c + R(a) (q - q0) / s."""
        k = self.side / out_size
        c, si = math.cos(self.angle) * k, math.sin(self.angle) * k
        q0 = (out_size - 1) / 2.0
        return np.array([[c, -si, self.cx - (c - si) * q0],
                         [si, c, self.cy - (si + c) * q0]])

    def box(self) -> tuple[float, float, float, float]:
        """Axis-aligned (x0, y0, x1, y1) of the (unrotated) crop square, for display."""
        h = self.side / 2
        return (self.cx - h, self.cy - h, self.cx + h, self.cy + h)


def box_iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_intersection(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def frame_to_crop(crop: Crop, points: np.ndarray, out_size: int) -> np.ndarray:
    return apply_affine(crop.matrix(out_size), points)


def crop_to_frame(crop: Crop, points: np.ndarray, out_size: int) -> np.ndarray:
    return apply_affine(crop.inverse_matrix(out_size), points)


def warp_crop(frame: np.ndarray, crop: Crop, out_size: int) -> np.ndarray:
    return cv2.warpAffine(frame, crop.matrix(out_size), (out_size, out_size),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def eye_angle(points: np.ndarray, layout: Layout) -> float:
    a, b = layout.outer_eye_corners
    d = points[b] - points[a]
    return math.atan2(float(d[1]), float(d[0]))


def crop_from_landmarks(points: np.ndarray, layout: Layout, scale: float = DEFAULT_LANDMARK_SCALE,
                        upright: bool = True) -> Crop:
    """Frame the face the way training does: a square of `scale` x the
    landmarks' extent, measured in the face's own (upright) axes. A model's
    `ModelConfig.landmark_scale` says which scale it was trained with."""
    angle = eye_angle(points, layout) if upright else 0.0
    c, s = math.cos(angle), math.sin(angle)
    to_face = np.array([[c, s], [-s, c]])
    local = points @ to_face.T
    lo, hi = local.min(axis=0), local.max(axis=0)
    centre_local = (lo + hi) / 2
    side = scale * float(max(hi - lo))
    centre = to_face.T @ centre_local
    return Crop(float(centre[0]), float(centre[1]), max(side, 1.0), angle)


def crop_from_box(box: Box, extent_per_box: float, shift_y: float, landmark_scale: float,
                  eyes: tuple[tuple[float, float], tuple[float, float]] | None = None) -> Crop:
    """Turn a detector box (x0, y0, x1, y1) into the crop a model expects.

    A detector's box is tighter or looser than the landmarks and sits higher
    or lower on the face; each detector measures its own `extent_per_box`
    (landmark extent / box side) and `shift_y` (centre offset in box heights,
    down the face) on labelled faces (core/detector.py). The crop is then
    framed like a landmark crop, `landmark_scale` x the landmark extent.
    When the eye centres are known, the crop is rotated to make them level.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    angle = 0.0
    if eyes is not None:
        (lx, ly), (rx, ry) = eyes
        angle = math.atan2(ry - ly, rx - lx)
    side = landmark_scale * extent_per_box * max(w, h)
    shift = shift_y * h                      # along the face's own down direction
    cx = (x0 + x1) / 2 - math.sin(angle) * shift
    cy = (y0 + y1) / 2 + math.cos(angle) * shift
    return Crop(cx, cy, max(side, 1.0), angle)
