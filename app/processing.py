"""The processing thread: latest captured frame -> pipeline -> overlay -> CSV.

It owns the capture grabber, the pipeline and the recorder, so none of them
is touched from two threads. The GUI talks to it only through `submit()`
(commands run between frames) and receives results as Qt signals.
"""
from __future__ import annotations

import queue
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from core.capture import LatestFrameGrabber
from core.config import PipelineConfig, SmoothingConfig
from core.detector import DetectorError
from core.frames import FrameError, to_rgb
from core.model import WeightsError
from core.overlay import OverlayOptions, draw_faces
from core.pipeline import STAGES, FrameResult, LandmarkPipeline
from core.recorder import CsvRecorder, RecorderError
from core.runtimes import RuntimeUnavailable
from core.sources import SourceError, open_source


@dataclass
class Stats:
    capture_fps: float = 0.0
    process_fps: float = 0.0
    latency_ms: float = 0.0                       # capture hand-over -> overlay ready
    stages_ms: dict[str, float] = field(default_factory=dict)
    faces: int = 0
    dropped: int = 0
    processed: int = 0
    recording_rows: int | None = None


def to_qimage(bgr: np.ndarray) -> QImage:
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ProcessingThread(QThread):
    frame_ready = Signal(QImage, object)         # overlay image, Stats
    message = Signal(str)                        # a problem the user should see ("" clears it)
    recording_changed = Signal(bool, str)        # recording?, path or error text
    finished_source = Signal()                   # a file source ended
    limit_reached = Signal()                     # --max-frames processed

    def __init__(self, config: PipelineConfig, max_frames: int | None = None) -> None:
        super().__init__()
        self.config = config
        self.max_frames = max_frames
        self.overlay = OverlayOptions()
        self._commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self._running = True
        self._grabber: LatestFrameGrabber | None = None
        self._pipeline: LandmarkPipeline | None = None
        self._recorder: CsvRecorder | None = None
        self._frame_times: deque[float] = deque(maxlen=30)
        self._processed = 0
        self._model_status = ""

    # ---- called from the GUI thread -------------------------------------------------------
    def submit(self, command: Callable[[], None]) -> None:
        self._commands.put(command)

    def load_model(self) -> None:
        self.submit(lambda: self._load_pipeline(self.config))

    def open_source(self, spec: str) -> None:
        self.submit(lambda: self._open_source(spec))

    def set_points(self, points: int) -> None:
        self.submit(lambda: self._load_pipeline(replace(self.config, points=points, weights=None)))

    def set_smoothing(self, smoothing: SmoothingConfig) -> None:
        self.submit(lambda: self._set_smoothing(smoothing))

    def start_recording(self, path: Path) -> None:
        self.submit(lambda: self._start_recording(path))

    def stop_recording(self) -> None:
        self.submit(self._stop_recording)

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Stop capture and processing; finalises the CSV. True if the thread ended in time."""
        self._running = False
        return self.wait(timeout_ms)

    # ---- processing thread ----------------------------------------------------------------
    def _load_pipeline(self, config: PipelineConfig) -> None:
        if self._recorder is not None and config.points != self.config.points:
            self._stop_recording()
        old = self._pipeline
        self._pipeline = None
        self.config = config
        if old is not None:
            old.close()
        try:
            self._pipeline = LandmarkPipeline(config)
            self._model_status = ""
        except WeightsError as exc:
            self._model_status = (f"No trained weights for {config.points} points ({exc}). "
                                  "Video is shown without landmarks.")
        except (DetectorError, RuntimeUnavailable) as exc:
            self._model_status = f"Landmarks unavailable: {exc}"
        self.message.emit(self._model_status)

    def _open_source(self, spec: str) -> None:
        if self._grabber is not None:
            self._grabber.stop()
            self._grabber = None
        try:
            source = open_source(spec)
        except SourceError as exc:
            self.message.emit(f"{exc}. Use 'Open file…' to play a video or image instead.")
            return
        if self._pipeline is not None:
            self._pipeline.reset()
        self._grabber = LatestFrameGrabber(source, realtime=True).start()
        self.message.emit(self._model_status)

    def _set_smoothing(self, smoothing: SmoothingConfig) -> None:
        self.config.smoothing = replace(smoothing)
        if self._pipeline is not None:
            self._pipeline.set_smoothing(smoothing)

    def _start_recording(self, path: Path) -> None:
        self._stop_recording()
        try:
            self._recorder = CsvRecorder(path, self.config.points)
            self.recording_changed.emit(True, str(path))
        except RecorderError as exc:
            self.recording_changed.emit(False, str(exc))

    def _stop_recording(self) -> None:
        if self._recorder is not None:
            path = str(self._recorder.path)
            self._recorder.close()
            self._recorder = None
            self.recording_changed.emit(False, path)

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def run(self) -> None:
        try:
            while self._running:
                self._drain_commands()
                if self._grabber is None:
                    time.sleep(0.02)
                    continue
                frame = self._grabber.get(timeout=0.05)
                if frame is None:
                    if self._grabber.error:
                        self.message.emit(f"{self._grabber.error}. Use 'Open file…' to continue with a file.")
                        self._grabber.stop()
                        self._grabber = None
                    elif self._grabber.exhausted:
                        self._grabber.stop()
                        self._grabber = None
                        self.finished_source.emit()
                    continue
                self._process(frame)
                if self.max_frames is not None and self._processed >= self.max_frames:
                    self.limit_reached.emit()
                    self.max_frames = None
        finally:
            if self._grabber is not None:
                self._grabber.stop()
            self._stop_recording()
            if self._pipeline is not None:
                self._pipeline.close()

    def _process(self, frame) -> None:
        try:
            image = cv2.cvtColor(to_rgb(frame.image), cv2.COLOR_RGB2BGR)
        except FrameError as exc:
            self.message.emit(f"skipped a frame: {exc}")
            return
        result = FrameResult([])
        if self._pipeline is not None:
            result = self._pipeline.process(image, frame.timestamp, still=self._grabber.source.still)
            draw_faces(image, result.faces, self._pipeline.layout, self.overlay)
            if self._recorder is not None:
                self._recorder.write_frame(frame.index, frame.timestamp, result.faces, frame.name)
        self._processed += 1
        now = time.monotonic()
        self._frame_times.append(now)
        times = self._frame_times
        stats = Stats(
            capture_fps=self._grabber.fps if self._grabber else 0.0,
            process_fps=(len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0,
            latency_ms=(now - frame.captured_at) * 1e3 if frame.captured_at else 0.0,
            stages_ms={k: result.timings.get(k, 0.0) for k in STAGES},
            faces=len(result.faces),
            dropped=self._grabber.dropped if self._grabber else 0,
            processed=self._processed,
            recording_rows=self._recorder.rows if self._recorder else None)
        self.frame_ready.emit(to_qimage(image), stats)
