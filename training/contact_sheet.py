"""Contact sheets: labelled faces laid out in a grid, to check labels by eye.

Used for the 98-point labels (training/corpus/label_98.py) and the pose-synthesised
views (training/corpus/synthesize.py).
"""
from __future__ import annotations

import numpy as np

from core.geometry import crop_from_landmarks, warp_crop
from core.landmarks import Layout
from core.overlay import OverlayOptions, draw_faces
from core.results import FaceResult


def labelled_tile(image: np.ndarray, points: np.ndarray, layout: Layout, scale: float, size: int,
                  upright: bool = True) -> np.ndarray:
    """`points` drawn on a copy of `image` (RGB), cropped round them (`scale` x their extent) to size x size."""
    face = FaceResult(0, (0, 0, 0, 0), points, points, 1.0, True)
    drawn = draw_faces(image.copy(), [face], layout, OverlayOptions(boxes=False, axes=False))
    return warp_crop(drawn, crop_from_landmarks(points, layout, scale, upright=upright), size)


def grid(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    """Tiles of one size in rows of `columns`, the last row padded with black."""
    tiles = tiles + [np.zeros_like(tiles[0])] * (-len(tiles) % columns)
    return np.vstack([np.hstack(tiles[i:i + columns]) for i in range(0, len(tiles), columns)])
