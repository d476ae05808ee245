"""Draw landmarks, contour lines, boxes and ids onto an RGB frame (OpenCV drawing).

Drawing is apart from inference: the GUI and `--save-overlay` both call
this, so a saved overlay shows exactly what the window shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.config import CameraIntrinsics
from core.head_pose import project
from core.landmarks import Layout
from core.mean_face import MEAN_FACE_68
from core.results import FaceResult

# RGB, one per face id.
_COLOURS = ((80, 220, 80), (255, 180, 80), (60, 160, 255), (220, 90, 220), (220, 220, 60), (90, 90, 255))


@dataclass
class OverlayOptions:
    points: bool = True
    lines: bool = True
    boxes: bool = True
    axes: bool = True          # head pose: x red, y green, z (out of the face) blue


# Head axes start at the nose bridge's root (point 27) and are 50 mm long; z points out of the face.
_AXES_ORIGIN = MEAN_FACE_68[27]
_AXES = np.array([_AXES_ORIGIN, _AXES_ORIGIN + (50, 0, 0), _AXES_ORIGIN + (0, 50, 0), _AXES_ORIGIN + (0, 0, -50)])
_AXIS_COLOURS = ((235, 60, 60), (60, 220, 60), (70, 130, 255))


def draw_faces(image: np.ndarray, faces: list[FaceResult], layout: Layout,
               options: OverlayOptions = OverlayOptions(), camera: CameraIntrinsics | None = None) -> np.ndarray:
    """Draws in place and returns `image` (RGB uint8). Head axes need the `camera` pose was solved with."""
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
        if options.axes and camera is not None and face.pose is not None and face.pose.is_finite():
            ends = np.round(project(face.pose, camera, _AXES)).astype(np.int64)
            if np.abs(ends).max() < 1e5:
                for end, axis_colour in zip(ends[1:], _AXIS_COLOURS):
                    cv2.line(image, tuple(int(v) for v in ends[0]), tuple(int(v) for v in end), axis_colour,
                             thickness + 1, cv2.LINE_AA)
        if options.boxes:
            x0, y0, x1, y1 = (int(round(v)) for v in face.box)
            cv2.rectangle(image, (x0, y0), (x1, y1), colour, thickness)
            label = f"#{face.face_id} {face.confidence:.2f}"
            cv2.putText(image, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45 * scale, colour, thickness, cv2.LINE_AA)
    return image
