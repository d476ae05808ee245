"""Face tracks: stable ids, crops from the previous frame's landmarks.

Running the detector on every frame is the expensive part and it jitters;
once a face has landmarks, they predict where next frame's crop goes. The
detector only runs when there is no track, or every N frames to pick up new
faces. A track ends when the model's confidence falls below a threshold.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.config import BlinkConfig, SmoothingConfig
from core.face_measures import BlinkDetector
from core.geometry import Crop, box_iou, crop_from_landmarks
from core.landmarks import Layout
from core.results import Box, HeadPose
from core.smoothing import OneEuroFilter


def blend_crops(old: Crop, new: Crop, follow: float) -> Crop:
    """`old` moved `follow` (0..1) of the way to `new`: centre, side and angle."""
    if follow >= 1.0:
        return new
    d_angle = (new.angle - old.angle + math.pi) % (2 * math.pi) - math.pi
    return Crop(old.cx + follow * (new.cx - old.cx), old.cy + follow * (new.cy - old.cy),
                old.side + follow * (new.side - old.side), old.angle + follow * d_angle)


def points_box(points: np.ndarray) -> Box:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


@dataclass
class Track:
    face_id: int
    crop: Crop
    filter: OneEuroFilter
    blinks: BlinkDetector
    points: np.ndarray | None = None          # smoothed, frame pixels
    raw_points: np.ndarray | None = None      # as the model gave them
    score: float = 0.0
    pose: HeadPose | None = None              # last head pose: the next solve starts from it
    framed_by_landmarks: bool = False         # the crop came from landmarks (else from the detector)
    # The face mesh's last correction of this face (core/mesh_blend.py, in its crop's units) and the
    # frames since it was read: carried to the frames between readings (PipelineConfig.mesh_interval).
    mesh_correction: np.ndarray | None = None
    frames_since_mesh: int = 0

    def box(self) -> Box:
        return points_box(self.points) if self.points is not None else self.crop.box()


class Tracker:
    def __init__(self, layout: Layout, landmark_scale: float, smoothing: SmoothingConfig,
                 max_faces: int = 16, blink: BlinkConfig = BlinkConfig(), crop_follow: float = 1.0) -> None:
        self.layout = layout
        self.crop_follow = crop_follow
        self.blink = blink
        self.landmark_scale = landmark_scale
        self.smoothing = smoothing
        self.max_faces = max_faces
        self.tracks: list[Track] = []
        self._next_id = 0

    def reset(self) -> None:
        """A new source: no tracks, ids from 0."""
        self.tracks = []
        self._next_id = 0

    def cut(self) -> None:
        """A break in the video (a loop, a seek, a clock that restarted): every track ends, and
        with it its filter and blink baseline, which describe another moment. Ids go on
        counting, so a face after the break is a new track, never a continuation."""
        self.tracks = []

    def new_filter(self) -> OneEuroFilter:
        s = self.smoothing
        return OneEuroFilter(s.min_cutoff, s.beta, s.d_cutoff, s.shared_speed)

    def set_smoothing(self, smoothing: SmoothingConfig) -> None:
        """New One Euro settings for every track, running ones at once (their state is kept)."""
        self.smoothing = smoothing
        for track in self.tracks:
            track.filter.set_parameters(smoothing.min_cutoff, smoothing.beta, smoothing.d_cutoff,
                                        smoothing.shared_speed)

    def add_detections(self, boxes: list[Box], crops: list[Crop], scores: list[float],
                       seen_at_search: Sequence[tuple[Track, Box]] = ()) -> bool:
        """Start tracks for detections (best first) that no current track already covers.

        `seen_at_search`: for detections made some frames ago (core/face_search.py), each track
        with its box on the frame they were made on; a detection that one still-tracked face
        covered then is that face, wherever it has moved since.
        Returns True when faces were left out because `max_faces` tracks exist.
        """
        limit_hit = False
        then = [b for t, b in seen_at_search if any(t is u for u in self.tracks)]
        for box, crop, score in zip(boxes, crops, scores):
            if any(box_iou(box, t.box()) > 0.3 for t in self.tracks) or any(box_iou(box, b) > 0.3 for b in then):
                continue
            if len(self.tracks) >= self.max_faces:
                limit_hit = True
                break
            self.tracks.append(Track(self._next_id, crop, self.new_filter(), BlinkDetector(self.blink), score=score))
            self._next_id += 1
        return limit_hit

    def follow(self, track: Track, raw_points: np.ndarray) -> None:
        """Frame the track's next crop from the face network's own answer on this frame.

        It comes from the network's (unsmoothed) points: smoothing lags. It moves only part of
        the way (`crop_follow`): a crop that shakes with the answer's noise feeds that noise back
        into the next answer. It is called before the eyelids are refined, so the next frame can
        start while this one is finished (core/frame_overlap.py); the lids lie inside the
        face's extent and never change its crop."""
        target = crop_from_landmarks(raw_points, self.layout, self.landmark_scale)
        track.crop = blend_crops(track.crop, target, self.crop_follow) if track.framed_by_landmarks else target
        track.framed_by_landmarks = True

    def update(self, track: Track, raw_points: np.ndarray, score: float, timestamp: float,
               smooth: bool) -> None:
        """This frame's points (eyelids refined) into the track: raw, smoothed, and its score."""
        track.raw_points = raw_points
        track.score = score
        scale = float(np.ptp(raw_points[:, 0]) + 1e-6)
        if smooth:
            track.points = track.filter(raw_points, timestamp, scale).astype(np.float32)
        else:
            track.filter(raw_points, timestamp, scale)      # keep the filter warm for a switch-on
            track.points = raw_points

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
