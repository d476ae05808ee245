"""The landmark pipeline: frame in, faces out.

    detect (when needed) -> crop -> MobileFAN -> heatmap decode -> frame coords -> smoothing

The GUI worker, the headless runner and the benchmarks all drive this one
object, so what is measured is what users run. Each stage is timed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
import torch

from core.config import PipelineConfig, SmoothingConfig
from core.detector import BlazeFaceDetector
from core.frames import is_too_small, to_rgb
from core.landmarks import Layout, layout_for
from core.model import MobileFAN, load_checkpoint
from core.predictor import LandmarkPredictor
from core.runtimes import make_runner
from core.tracker import Tracker, points_box

STAGES = ("detect", "crop", "model", "decode", "smooth")


@dataclass
class FaceResult:
    face_id: int
    box: tuple[float, float, float, float]
    points: np.ndarray          # smoothed (if smoothing is on), frame pixels
    raw_points: np.ndarray
    confidence: float
    success: bool


@dataclass
class FrameResult:
    faces: list[FaceResult]
    timings: dict[str, float] = field(default_factory=dict)   # milliseconds per stage
    detector_ran: bool = False
    frame_size: tuple[int, int] = (0, 0)                       # width, height

    @property
    def total_ms(self) -> float:
        return sum(self.timings.values())


class LandmarkPipeline:
    def __init__(self, config: PipelineConfig, model: MobileFAN | None = None,
                 detector: BlazeFaceDetector | None = None) -> None:
        self.config = config
        torch.set_num_threads(max(1, config.num_threads))
        cv2.setNumThreads(max(1, config.num_threads))
        checkpoint = None
        if model is None:
            checkpoint = config.weights_path()
            model = load_checkpoint(checkpoint, expected_points=config.points).model
        if model.config.num_points != config.points:
            raise ValueError(f"model predicts {model.config.num_points} points, config asks for {config.points}")
        self.model = model
        runner = make_runner(model, config.runtime, config.num_threads, checkpoint)
        self.predictor = LandmarkPredictor(model, runner)
        self.layout: Layout = layout_for(config.points)
        self.detector = detector or BlazeFaceDetector(config.detector_range, config.detector_confidence,
                                                      config.max_faces)
        self.tracker = Tracker(self.layout, config.crop, config.smoothing, config.max_faces)
        self._frames_since_detect = 0
        self._rgb: np.ndarray | None = None           # reused RGB frame buffer

    def reset(self) -> None:
        """Forget all tracks (and their filters): a new video, or a cut."""
        self.tracker.reset()
        self._frames_since_detect = 0

    def set_smoothing(self, smoothing: SmoothingConfig) -> None:
        """Change the One Euro parameters live; running filters take them at once."""
        self.config.smoothing = replace(smoothing)
        self.tracker.smoothing = self.config.smoothing
        for track in self.tracker.tracks:
            track.filter.min_cutoff = smoothing.min_cutoff
            track.filter.beta = smoothing.beta
            track.filter.d_cutoff = smoothing.d_cutoff

    def process(self, frame: np.ndarray, timestamp: float | None = None, still: bool = False,
                bgr: bool = True) -> FrameResult:
        """Landmarks for every face in `frame` (BGR by default, as OpenCV reads it).

        `still=True` treats the frame as an unrelated photo: no tracking from
        the previous frame, a tiled search for small faces, no smoothing.
        """
        timings = dict.fromkeys(STAGES, 0.0)
        rgb = to_rgb(frame, bgr=bgr, out=self._rgb)
        self._rgb = rgb
        h, w = rgb.shape[:2]
        if is_too_small(rgb):
            return FrameResult([], timings, False, (w, h))
        timestamp = time.monotonic() if timestamp is None else timestamp
        if still:
            self.reset()

        t0 = time.perf_counter()
        detector_ran = False
        if still or not self.tracker.tracks or self._frames_since_detect >= self.config.redetect_every:
            detections = self.detector.detect_tiled(rgb) if still else self.detector.detect(rgb)
            self.tracker.add_detections(detections)
            self._frames_since_detect = 0
            detector_ran = True
        else:
            self._frames_since_detect += 1
        t1 = time.perf_counter()

        tracks = list(self.tracker.tracks)
        crops = [t.crop for t in tracks]
        patches = self.predictor.crops(rgb, crops)
        t2 = time.perf_counter()
        heatmaps = self.predictor.heatmaps(patches)
        t3 = time.perf_counter()
        predictions = self.predictor.decode(heatmaps, crops)
        t4 = time.perf_counter()

        smooth = self.config.smoothing.enabled and not still
        for track, pred in zip(tracks, predictions):
            self.tracker.update(track, pred.points, float(pred.scores.mean()), timestamp, smooth)
        # Lost faces are reported once, flagged unsuccessful, then their track ends.
        lost = self.tracker.prune(self.config.min_track_score)
        faces = [FaceResult(t.face_id, points_box(t.points), t.points, t.raw_points, t.score,
                            t not in lost) for t in self.tracker.tracks + lost]
        t5 = time.perf_counter()

        timings.update(detect=(t1 - t0) * 1e3, crop=(t2 - t1) * 1e3, model=(t3 - t2) * 1e3,
                       decode=(t4 - t3) * 1e3, smooth=(t5 - t4) * 1e3)
        faces.sort(key=lambda f: f.face_id)
        return FrameResult(faces, timings, detector_ran, (w, h))

    def close(self) -> None:
        self.detector.close()
