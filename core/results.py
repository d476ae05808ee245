"""What the pipeline hands out: plain result types, importable without torch.

The CSV recorder, the overlay and the corpus tools only need to name these;
keeping them apart from `core/pipeline.py` keeps those modules free of the
model, the detector and the runtimes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.config import CameraIntrinsics
from core.rotations import rotation_xyz

Box = tuple[float, float, float, float]      # x0, y0, x1, y1 in frame pixels


@dataclass(frozen=True)
class HeadPose:
    """OpenFace 2.0's pose: the face's position (mm) and rotation (radians, R = Rx * Ry * Rz)
    in the camera frame (x right, y down, z away from the camera); see core/head_pose.py."""

    tx: float
    ty: float
    tz: float
    rx: float
    ry: float
    rz: float

    @property
    def rotation(self) -> np.ndarray:
        return rotation_xyz(self.rx, self.ry, self.rz)

    @property
    def translation(self) -> np.ndarray:
        return np.array([self.tx, self.ty, self.tz])

    def degrees(self) -> tuple[float, float, float]:
        """(pitch, yaw, roll) in degrees, for display."""
        return math.degrees(self.rx), math.degrees(self.ry), math.degrees(self.rz)

    def is_finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.tx, self.ty, self.tz, self.rx, self.ry, self.rz))


@dataclass
class FaceResult:
    face_id: int
    box: Box
    points: np.ndarray          # (N, 2) frame pixels; smoothed when smoothing is on
    raw_points: np.ndarray      # (N, 2) as the network gave them
    confidence: float           # mean heatmap peak, 0..1
    success: bool               # False on the frame where the track was lost
    pose: HeadPose | None = None
    ear_left: float = math.nan  # eye aspect ratio, subject's left eye
    ear_right: float = math.nan
    blink: bool = False         # inside a blink (core/face_measures.py)
    mouth_open: float = math.nan   # inner-lip gap / outer-eye-corner distance


@dataclass
class FrameResult:
    faces: list[FaceResult]
    timings: dict[str, float] = field(default_factory=dict)   # milliseconds per stage
    detector_ran: bool = False
    frame_size: tuple[int, int] = (0, 0)                       # width, height
    faces_found: int = 0        # faces the detector saw this frame (0 when it did not run)
    face_limit_hit: bool = False   # more faces were found than `max_faces` allows
    camera: CameraIntrinsics | None = None   # the intrinsics head pose used (for drawing head axes)
    blinks: int = 0             # blinks begun since the source was opened, all faces (the pipeline counts)

    @property
    def total_ms(self) -> float:
        return sum(self.timings.values())
