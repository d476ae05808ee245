"""What the pipeline hands out: plain result types, importable without torch.

The CSV recorder, the overlay and the corpus tools only need to name these;
keeping them apart from `core/pipeline.py` keeps those modules free of the
model, the detector and the runtimes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]      # x0, y0, x1, y1 in frame pixels


@dataclass
class FaceResult:
    face_id: int
    box: Box
    points: np.ndarray          # (N, 2) frame pixels; smoothed when smoothing is on
    raw_points: np.ndarray      # (N, 2) as the network gave them
    confidence: float           # mean heatmap peak, 0..1
    success: bool               # False on the frame where the track was lost


@dataclass
class FrameResult:
    faces: list[FaceResult]
    timings: dict[str, float] = field(default_factory=dict)   # milliseconds per stage
    detector_ran: bool = False
    frame_size: tuple[int, int] = (0, 0)                       # width, height
    faces_found: int = 0        # faces the detector saw this frame (0 when it did not run)
    face_limit_hit: bool = False   # more faces were found than `max_faces` allows

    @property
    def total_ms(self) -> float:
        return sum(self.timings.values())
