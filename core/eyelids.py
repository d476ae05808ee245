"""A second look at the eyelids: a small network on each eye's own crop.

The landmark networks see a whole face at 96-192 px, where a blink moves a
lid by about one heatmap pixel; trained on ~30 people they learnt the
average lid and barely close it on a stranger (EAR slope against dlib's
0.0-0.3 on held-out videos: bench/blinks.py). MediaPipe solves the same
problem with eye sub-networks on eye crops; this does the same with our own
network (training/eyelid_net.py, labels from the refined mesh's lids mapped
onto dlib's layout: training/eyelid_labels.py).

Each eye is cropped square around its two corners (from the face network,
which places corners well), `CROP_PER_EYE_WIDTH` x the corner distance,
rotated so the corners are level, the outer corner on the left: the left
eye is mirrored, so one network serves both. The network answers the four
lid points; the corners stay the face network's. The ONNX file carries its
crop geometry in its metadata, so it runs without torch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.config import WEIGHTS_DIR
from core.geometry import apply_affine

EYELID_MODEL = WEIGHTS_DIR / "eyelids.onnx"
CONFIG_KEY = "mobilefan_eyelid_config"

# Per eye, in dlib's 68-point layout: (outer corner, inner corner, lids in the crop's order:
# upper-outer, upper-inner, lower-inner, lower-outer).
EYES_68 = ((36, 39, (37, 38, 40, 41)), (45, 42, (44, 43, 47, 46)))
# The same lids in WFLW's 98-point layout (its 60-75), and the middle lid points that follow them.
EYES_98 = ((60, 64, (61, 63, 65, 67)), (72, 68, (71, 69, 75, 73)))
MIDDLE_98 = {62: (61, 63), 66: (65, 67), 70: (69, 71), 74: (73, 75)}


@dataclass(frozen=True)
class EyeCropConfig:
    size: int = 64                     # crop pixels
    per_eye_width: float = 2.0         # crop side / corner distance

    def to_dict(self) -> dict:
        return {"size": self.size, "per_eye_width": self.per_eye_width}


def eye_crop_matrix(outer: np.ndarray, inner: np.ndarray, cfg: EyeCropConfig, mirror: bool) -> np.ndarray:
    """2x3 frame -> crop: the corners' midpoint at the centre, outer -> inner along +x, +y down the
    face; `mirror` for the left eye (its outer corner is on the image's right)."""
    # Plain floats, not 2-vectors: numpy's per-call overhead was most of this function's ~28 us,
    # paid twice a face every frame.
    ox, oy, ix, iy = float(outer[0]), float(outer[1]), float(inner[0]), float(inner[1])
    dx, dy = ix - ox, iy - oy
    width = max(math.hypot(dx, dy), 1e-3)
    xx, xy = dx / width, dy / width                       # the crop's x axis in the frame
    sign = -1.0 if mirror else 1.0
    yx, yy = -xy * sign, xx * sign                        # its y axis
    s = cfg.size / (cfg.per_eye_width * width)
    cx, cy = (ox + ix) / 2, (oy + iy) / 2
    half = (cfg.size - 1) / 2.0
    return np.array([[xx * s, xy * s, half - s * (xx * cx + xy * cy)],
                     [yx * s, yy * s, half - s * (yx * cx + yy * cy)]])


def warp_eye(rgb: np.ndarray, matrix: np.ndarray, cfg: EyeCropConfig) -> np.ndarray:
    """The eye crop through `eye_crop_matrix`'s matrix: the one warp, for the app and training alike."""
    return cv2.warpAffine(rgb, matrix, (cfg.size, cfg.size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def eye_crops(rgb: np.ndarray, points: np.ndarray, cfg: EyeCropConfig,
              eyes=EYES_68) -> tuple[np.ndarray, list[np.ndarray]]:
    """(2, S, S, 3) crops of a face's eyes (right eye first, the left one mirrored), and their matrices."""
    patches, matrices = [], []
    for i, (outer, inner, _) in enumerate(eyes):
        m = eye_crop_matrix(points[outer], points[inner], cfg, mirror=i == 1)
        patches.append(warp_eye(rgb, m, cfg))
        matrices.append(m)
    return np.stack(patches), matrices


def to_frame(matrix: np.ndarray, crop_points: np.ndarray) -> np.ndarray:
    """Crop pixels -> frame pixels through the inverse of `eye_crop_matrix`'s matrix."""
    return apply_affine(cv2.invertAffineTransform(matrix), crop_points)


class EyelidRefiner:
    """The eyelid network on ONNX Runtime: faces' points in, the same with the lids re-placed."""

    def __init__(self, path: Path = EYELID_MODEL) -> None:
        from core.runtimes import open_side_network
        self.runner, config = open_side_network(path, CONFIG_KEY, "an eyelid model")
        self.crop = EyeCropConfig(**config)

    def refine(self, rgb: np.ndarray, faces: list[np.ndarray]) -> list[np.ndarray]:
        """Each face's (68 or 98, 2) points with the lids from the eye crops (corners unchanged)."""
        if not faces:
            return []
        eyes = EYES_68 if len(faces[0]) == 68 else EYES_98
        crops, matrices = [], []
        for points in faces:
            patch, mats = eye_crops(rgb, points, self.crop, eyes)
            crops.append(patch)
            matrices += mats
        batch = np.ascontiguousarray(np.concatenate(crops).transpose(0, 3, 1, 2), dtype=np.float32)
        lids = self.runner(batch).reshape(len(matrices), 4, 2)
        out = []
        for f, points in enumerate(faces):
            refined = np.array(points, np.float32, copy=True)
            for e, (_, _, lid_indices) in enumerate(eyes):
                refined[list(lid_indices)] = to_frame(matrices[2 * f + e], lids[2 * f + e])
            if len(refined) == 98:                # the middle lid points move with their neighbours
                for mid, (a, b) in MIDDLE_98.items():
                    refined[mid] += ((refined[a] - points[a]) + (refined[b] - points[b])) / 2
            out.append(refined)
        return out
