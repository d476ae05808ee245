"""Draw landmarks, contour lines, boxes and ids onto an RGB frame (OpenCV drawing).

Drawing is apart from inference: the GUI and `--save-overlay` both call
this, so a saved overlay shows exactly what the window shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.landmarks import Layout
from core.results import FaceResult

# RGB, one per face id.
_COLOURS = ((80, 220, 80), (255, 180, 80), (60, 160, 255), (220, 90, 220), (220, 220, 60), (90, 90, 255))


@dataclass
class OverlayOptions:
    points: bool = True
    lines: bool = True
    boxes: bool = True


def draw_faces(image: np.ndarray, faces: list[FaceResult], layout: Layout,
               options: OverlayOptions = OverlayOptions()) -> np.ndarray:
    """Draws in place and returns `image` (RGB uint8)."""
    scale = max(1.0, max(image.shape[:2]) / 640)
    thickness = max(1, int(round(scale)))
    for face in faces:
        colour = _COLOURS[face.face_id % len(_COLOURS)] if face.success else (90, 90, 90)
        pts = face.points
        if options.lines:
            for idx, closed in layout.polylines():
                poly = np.round(pts[idx]).astype(np.int32).reshape(-1, 1, 2)
                cv2.polylines(image, [poly], closed, colour, thickness, cv2.LINE_AA)
        if options.points:
            radius = max(1, int(round(1.5 * scale)))
            for x, y in pts:
                cv2.circle(image, (int(round(x)), int(round(y))), radius, (255, 255, 255), -1, cv2.LINE_AA)
        if options.boxes:
            x0, y0, x1, y1 = (int(round(v)) for v in face.box)
            cv2.rectangle(image, (x0, y0), (x1, y1), colour, thickness)
            label = f"#{face.face_id} {face.confidence:.2f}"
            cv2.putText(image, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45 * scale, colour, thickness, cv2.LINE_AA)
    return image
