"""Face tracks: stable ids, crops from the previous frame's landmarks.

Running the detector on every frame is the expensive part and it jitters;
once a face has landmarks, they predict where next frame's crop goes. The
detector only runs when there is no track, or every N frames to pick up new
faces. A track ends when the model's confidence falls below a threshold.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.config import CropConfig, SmoothingConfig
from core.detector import Detection
from core.geometry import Crop, box_iou, crop_from_detection, crop_from_landmarks
from core.landmarks import Layout
from core.smoothing import OneEuroFilter


def points_box(points: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


@dataclass
class Track:
    face_id: int
    crop: Crop
    filter: OneEuroFilter
    points: np.ndarray | None = None          # smoothed, frame pixels
    raw_points: np.ndarray | None = None      # as the model gave them
    score: float = 0.0
    age: int = 0
    extra: dict = field(default_factory=dict)

    def box(self) -> tuple[float, float, float, float]:
        return points_box(self.points) if self.points is not None else self.crop.box()


class Tracker:
    def __init__(self, layout: Layout, crop: CropConfig, smoothing: SmoothingConfig,
                 max_faces: int = 8) -> None:
        self.layout = layout
        self.crop_config = crop
        self.smoothing = smoothing
        self.max_faces = max_faces
        self.tracks: list[Track] = []
        self._next_id = 0

    def reset(self) -> None:
        self.tracks = []
        self._next_id = 0

    def new_filter(self) -> OneEuroFilter:
        s = self.smoothing
        return OneEuroFilter(s.min_cutoff, s.beta, s.d_cutoff)

    def add_detections(self, detections: list[Detection]) -> None:
        """Start tracks for detections that no current track already covers."""
        for det in detections:
            if len(self.tracks) >= self.max_faces:
                break
            if any(box_iou(det.box, t.box()) > 0.3 for t in self.tracks):
                continue
            crop = crop_from_detection(det.box, self.crop_config, det.eyes)
            self.tracks.append(Track(self._next_id, crop, self.new_filter(), score=det.score))
            self._next_id += 1

    def update(self, track: Track, raw_points: np.ndarray, score: float, timestamp: float,
               smooth: bool) -> None:
        track.raw_points = raw_points
        track.score = score
        scale = float(np.ptp(raw_points[:, 0]) + 1e-6)
        if smooth:
            track.points = track.filter(raw_points, timestamp, scale).astype(np.float32)
        else:
            track.filter(raw_points, timestamp, scale)      # keep the filter warm for a switch-on
            track.points = raw_points
        # Next frame's crop comes from the model's own (unsmoothed) answer: smoothing lags.
        track.crop = crop_from_landmarks(raw_points, self.layout, self.crop_config)
        track.age += 1

    def prune(self, min_score: float) -> list[Track]:
        """Drop tracks the model lost (returned) and duplicates of the same face."""
        lost = [t for t in self.tracks if t.score < min_score]
        kept = [t for t in self.tracks if t.score >= min_score]
        kept.sort(key=lambda t: t.face_id)          # older ids win over duplicates
        unique: list[Track] = []
        for t in kept:
            if all(box_iou(t.box(), u.box()) < 0.5 for u in unique):
                unique.append(t)
        self.tracks = unique
        return lost
