"""Eye openness, blinks and mouth opening from 68 (or 98) landmarks.

- Eye aspect ratio (Soukupova & Cech, "Real-Time Eye Blink Detection using
  Facial Landmarks", CVWW 2016): EAR = (|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|)
  over the six points of an eye contour; ~0.25-0.35 open, near 0 closed.
  `ear_left` is the subject's left eye (points 42-47, the image's right side),
  `ear_right` the subject's right eye (36-41).
- `mouth_open`: inner-lip gap (points 62-66) / outer-eye-corner distance.
- Blinks: per track, eyes count as closed when the mean EAR falls below
  `close_ratio` x the person's own open-eye EAR (a running high percentile
  over the last few seconds, since EAR differs a lot between people and
  head poses) and open again above `open_ratio` x it (hysteresis). A closure
  becomes a blink only once it has lasted `min_closed_frames` frames: a
  single noisy frame never flags one. The flag is causal (a CSV is written as
  it goes), so a blink is flagged from its second closed frame on, and
  closures longer than `max_duration_s` are eyes closed, not blinks.
"""
from __future__ import annotations

import bisect
from collections import deque

import numpy as np

from core.config import BlinkConfig
from core.landmarks import as_68

RIGHT_EYE = (36, 37, 38, 39, 40, 41)     # subject's right eye: image left
LEFT_EYE = (42, 43, 44, 45, 46, 47)


def eye_aspect_ratio(points: np.ndarray, eye: tuple[int, ...]) -> float:
    p1, p2, p3, p4, p5, p6 = (points[i] for i in eye)
    width = float(np.linalg.norm(p1 - p4))
    return (float(np.linalg.norm(p2 - p6)) + float(np.linalg.norm(p3 - p5))) / (2.0 * max(width, 1e-6))


def eye_aspect_ratios(landmarks: np.ndarray) -> tuple[float, float]:
    """(ear_left, ear_right) of a 68- or 98-point face: the subject's left and right eye."""
    pts = as_68(np.asarray(landmarks, np.float64))
    return eye_aspect_ratio(pts, LEFT_EYE), eye_aspect_ratio(pts, RIGHT_EYE)


def mouth_opening(landmarks: np.ndarray) -> float:
    """Inner-lip gap (62 to 66) over the outer-eye-corner distance (36 to 45)."""
    pts = as_68(np.asarray(landmarks, np.float64))
    return float(np.linalg.norm(pts[62] - pts[66]) / max(np.linalg.norm(pts[36] - pts[45]), 1e-6))


class BlinkDetector:
    """One face track's blink state, fed one mean EAR per frame."""

    def __init__(self, config: BlinkConfig = BlinkConfig()) -> None:
        self.config = config
        self._history: deque[tuple[float, float]] = deque()    # (time, ear), oldest first
        self._sorted: list[float] = []                          # the same EARs, sorted (the percentile)
        self._closed_since: float | None = None
        self._closed_frames = 0
        self.blinks = 0                                         # completed blinks

    def reset(self) -> None:
        """Forget the baseline and any closure in progress (the count of blinks stays)."""
        self._history.clear()
        self._sorted.clear()
        self._closed_since, self._closed_frames = None, 0

    def baseline(self) -> float | None:
        """The open-eye EAR: the running percentile, numpy's linear interpolation, read off a list
        kept sorted (a frame costs a bisect, not a sort of the last 5 s)."""
        n = len(self._sorted)
        if n < self.config.min_samples:
            return None
        rank = self.config.baseline_percentile / 100.0 * (n - 1)
        lo = int(rank)
        hi = min(lo + 1, n - 1)
        return float(self._sorted[lo] + (self._sorted[hi] - self._sorted[lo]) * (rank - lo))

    def update(self, ear: float, timestamp: float) -> bool:
        """True while inside a blink (closed for `min_closed_frames` frames, not yet too long)."""
        cfg = self.config
        if self._history and timestamp < self._history[-1][0]:
            self.reset()                # time went back: the baseline described another moment
        baseline = self.baseline()
        if self._closed_since is not None and baseline is not None and ear > cfg.open_ratio * baseline:
            if self._closed_frames >= cfg.min_closed_frames and \
                    timestamp - self._closed_since <= cfg.max_duration_s:
                self.blinks += 1
            self._closed_since, self._closed_frames = None, 0
        elif baseline is not None and ear < cfg.close_ratio * baseline:
            if self._closed_since is None:
                self._closed_since = timestamp
            self._closed_frames += 1
        if self._closed_since is None:
            # Only open eyes feed the baseline, so a long closure does not lower it.
            self._history.append((timestamp, ear))
            bisect.insort(self._sorted, ear)
            while self._history and timestamp - self._history[0][0] > cfg.baseline_s:
                _, old = self._history.popleft()
                del self._sorted[bisect.bisect_left(self._sorted, old)]
            return False
        return self._closed_frames >= cfg.min_closed_frames and \
            timestamp - self._closed_since <= cfg.max_duration_s
