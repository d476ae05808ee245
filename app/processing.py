"""The processing thread: latest captured frame -> pipeline -> overlay -> CSV.

It owns the capture grabber, the pipeline and the recorder, so none of them
is touched from two threads. The window talks to it only through commands
(`submit`, run between frames, in order) and hears back through Qt signals.
Every error is caught where it happens and reported as a message: the
thread never dies silently, and a failed CSV write stops the recording with
its rows whole.
"""
from __future__ import annotations

import queue
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from core.capture import LatestFrameGrabber
from core.config import PipelineConfig, SmoothingConfig
from core.errors import MobileFANError
from core.images import FrameError
from core.weights import WeightsError
from core.overlay import OverlayOptions, draw_faces
from core.pipeline import STAGES, LandmarkPipeline
from core.recorder import CsvRecorder, RecorderError
from core.results import FrameResult
from core.sources import SourceError, open_source


@dataclass
class Stats:
    capture_fps: float = 0.0
    process_fps: float = 0.0                      # measured while playing; held while paused (steps are not a rate)
    latency_ms: float = 0.0                       # capture hand-over -> overlay ready
    stages_ms: dict[str, float] = field(default_factory=dict)
    faces: int = 0
    faces_found: int = 0
    face_limit_hit: bool = False
    dropped: int = 0
    processed: int = 0
    recording_rows: int | None = None
    still: bool = False                           # a photo: no rates to plot
    frame_name: str = ""
    paused: bool = False
    landmarks_on: bool = True                     # a model is loaded (else video only)
    # The first face (lowest id): head pose in degrees (pitch, yaw, roll) and eye openness.
    pose_deg: tuple[float, float, float] | None = None
    ears: tuple[float, float] | None = None       # (left, right)
    blinks: int = 0                               # blinks seen since the source was opened, all faces
    frame_index: int = -1                         # the frame's index in its source
    points: np.ndarray | None = None              # the first face's points as drawn (smoothed when on)


@dataclass(frozen=True)
class RecordingState:
    active: bool
    path: str = ""
    error: str = ""                               # why it stopped or never started, if it failed
    rows: int = 0


@dataclass(frozen=True)
class SourceInfo:
    spec: str
    name: str
    live: bool
    still: bool
    length: int | None


def to_qimage(rgb: np.ndarray) -> QImage:
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ProcessingThread(QThread):
    frame_ready = Signal(QImage, object)         # overlay image, Stats
    message = Signal(str)                        # a problem the user should see ("" clears it)
    model_loaded = Signal(object)                # the PipelineConfig now running (its model may have failed)
    recording_changed = Signal(object)           # RecordingState
    source_opened = Signal(object)               # SourceInfo
    source_failed = Signal(str)                  # the source could not be opened or stopped delivering
    finished_source = Signal()                   # a file source ended (a folder: its last photo passed)
    limit_reached = Signal()                     # --max-frames processed

    def __init__(self, config: PipelineConfig, max_frames: int | None = None, realtime: bool = True) -> None:
        super().__init__()
        self.config = config
        self.max_frames = max_frames
        self.realtime = realtime                 # False: every frame of a file, as fast as processed
        self._overlay = OverlayOptions()
        self._commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self._running = True
        self._grabber: LatestFrameGrabber | None = None
        self._pipeline: LandmarkPipeline | None = None
        self._recorder: CsvRecorder | None = None
        self._frame_times: deque[float] = deque(maxlen=30)
        self._process_fps = 0.0
        self._was_paused = False
        self._processed = 0
        self._model_status = ""
        self._loop = False
        self._still_interval: float | None = None
        self._wraps_seen = 0
        self._end_reported = False
        self._live = False

    # ---- called from the GUI thread: commands only --------------------------------------------
    def submit(self, command: Callable[[], None]) -> None:
        self._commands.put(command)

    def load_model(self) -> None:
        self.submit(lambda: self._load_pipeline(self.config))

    def open_source(self, spec: str) -> None:
        self.submit(lambda: self._open_source(spec))

    def set_model(self, points: int, size: str) -> None:
        """Another shipped model: the landmark layout and/or the size."""
        self.submit(lambda: self._load_pipeline(replace(self.config, points=points, model=size, weights=None)))

    def set_smoothing(self, smoothing: SmoothingConfig) -> None:
        self.submit(lambda: self._set_smoothing(smoothing))

    def set_overlay(self, options: OverlayOptions) -> None:
        self.submit(lambda: setattr(self, "_overlay", replace(options)))

    def start_recording(self, path: Path, overwrite: bool = False) -> None:
        self.submit(lambda: self._start_recording(path, overwrite))

    def stop_recording(self) -> None:
        self.submit(lambda: self._stop_recording())

    def set_paused(self, paused: bool) -> None:
        self.submit(lambda: self._grabber and (self._grabber.pause() if paused else self._grabber.resume()))

    def step(self, delta: int = 1) -> None:
        self.submit(lambda: self._grabber and self._grabber.step(delta))

    def set_loop(self, loop: bool) -> None:
        def command() -> None:
            self._loop = loop
            if self._grabber:
                self._grabber.set_loop(loop)
        self.submit(command)

    def set_still_interval(self, seconds: float | None) -> None:
        """Seconds between photos of a folder; None: only on request."""
        def command() -> None:
            self._still_interval = seconds
            if self._grabber:
                self._grabber.set_still_interval(seconds)
        self.submit(command)

    def request_stop(self) -> None:
        """Stop capture and processing; the CSV is finalised as the thread ends."""
        self._running = False

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Request a stop and wait up to `timeout_ms`; True if the thread ended in time."""
        self.request_stop()
        return self.wait(timeout_ms)

    # ---- processing thread -----------------------------------------------------------------
    def _load_pipeline(self, config: PipelineConfig) -> None:
        if self._recorder is not None and config.points != self.config.points:
            self._stop_recording(f"recording stopped: the landmark layout changed to {config.points} points "
                                 f"(a CSV holds one layout); start a new recording")
        old = self._pipeline
        self._pipeline = None
        self.config = config
        if old is not None:
            old.close()
        try:
            self._pipeline = LandmarkPipeline(config)
            self._pipeline.prepare_for_source(self._live)
            self._pipeline.warm_up()
            self._model_status = ""
        except WeightsError as exc:
            self._model_status = (f"No trained weights for the {config.model} {config.points}-point model ({exc}). "
                                  "Video is shown without landmarks.")
        except MobileFANError as exc:                # the detector or the runtime cannot run here
            self._model_status = f"Landmarks unavailable: {exc}"
        self.model_loaded.emit(config)
        self.message.emit(self._model_status)

    def _open_source(self, spec: str) -> None:
        if self._grabber is not None:
            self._grabber.stop()
            self._grabber = None
        try:
            source = open_source(spec)
        except SourceError as exc:
            self.source_failed.emit(str(exc))          # the window says it once, where the video would be
            return
        self._live = source.live
        if self._pipeline is not None:
            self._pipeline.prepare_for_source(source.live)
        interval = self._still_interval
        if self.max_frames is not None and interval is None:
            interval = 0.0                       # demo/test mode: a folder plays through by itself
        self._grabber = LatestFrameGrabber(source, realtime=self.realtime, loop=self._loop,
                                           still_interval=interval).start()
        self._wraps_seen = 0
        self._end_reported = False
        self._frame_times.clear()
        self._process_fps = 0.0
        self.source_opened.emit(SourceInfo(spec, source.name, source.live, source.still, source.length))
        self.message.emit(self._model_status)

    def _set_smoothing(self, smoothing: SmoothingConfig) -> None:
        self.config = replace(self.config, smoothing=smoothing)
        if self._pipeline is not None:
            self._pipeline.set_smoothing(smoothing)

    def _start_recording(self, path: Path, overwrite: bool) -> None:
        self._stop_recording()
        try:
            self._recorder = CsvRecorder(path, self.config.points, overwrite=overwrite)
        except RecorderError as exc:
            self.recording_changed.emit(RecordingState(False, str(path), str(exc)))
            return
        self.recording_changed.emit(RecordingState(True, str(path)))

    def _stop_recording(self, reason: str = "") -> None:
        if self._recorder is None:
            return
        recorder, self._recorder = self._recorder, None
        recorder.close()
        self.recording_changed.emit(RecordingState(False, str(recorder.path), reason, recorder.rows))

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command()
            except Exception as exc:  # noqa: BLE001 - a command must never kill the thread
                self.message.emit(f"Error: {exc}")

    def run(self) -> None:
        try:
            while self._running:
                self._drain_commands()
                if not self._running:
                    break
                grabber = self._grabber
                if grabber is None:
                    time.sleep(0.02)
                    continue
                frame = grabber.get(timeout=0.05)
                if frame is None:
                    self._check_source_state(grabber)
                    continue
                if grabber.wraps != self._wraps_seen:
                    self._wraps_seen = grabber.wraps
                    if self._recorder is not None:
                        self._stop_recording("recording stopped at the end of the video; it keeps looping")
                self._process(frame, grabber)
                if self.max_frames is not None and self._processed >= self.max_frames:
                    self._running = False            # not one frame more in the CSV
                    self.limit_reached.emit()
        except Exception as exc:  # noqa: BLE001 - report, never die silently
            self.message.emit(f"Processing stopped: {exc}")
        finally:
            if self._grabber is not None:
                self._grabber.stop()
            self._stop_recording()
            if self._pipeline is not None:
                self._pipeline.close()

    def _check_source_state(self, grabber: LatestFrameGrabber) -> None:
        if grabber.error:
            text = grabber.error
            grabber.stop()
            self._grabber = None
            self.source_failed.emit(text)
        elif grabber.exhausted and not self._end_reported:
            self._end_reported = True
            early = grabber.source.ended_early()
            if early:
                self.message.emit(early)
            if not grabber.source.still:
                grabber.stop()
                self._grabber = None
            self.finished_source.emit()

    def _process(self, frame, grabber: LatestFrameGrabber) -> None:
        image = frame.image
        result = FrameResult([])
        pipeline = self._pipeline
        if pipeline is not None:
            try:
                result = pipeline.process(image, frame.timestamp, still=grabber.source.still, cut=frame.cut)
            except FrameError as exc:
                self.message.emit(f"skipped a frame: {exc}")
                return
            image = draw_faces(image, result.faces, pipeline.layout, self._overlay, result.camera)
            if self._recorder is not None:
                try:
                    self._recorder.write_frame(frame.index, frame.timestamp, result.faces, frame.name)
                except RecorderError as exc:
                    self._stop_recording(str(exc))
                    self.message.emit(f"Recording failed: {exc}")
        first = result.faces[0] if result.faces else None
        self._processed += 1
        now = time.monotonic()
        paused = grabber.paused
        if paused != self._was_paused:
            self._frame_times.clear()           # a pause is not slow processing; nor is a step
            self._was_paused = paused
        if not paused:
            self._frame_times.append(now)
            times = self._frame_times
            if len(times) > 1 and times[-1] > times[0]:
                self._process_fps = (len(times) - 1) / (times[-1] - times[0])
        stats = Stats(
            capture_fps=grabber.fps,
            process_fps=self._process_fps,
            latency_ms=(now - frame.captured_at) * 1e3 if frame.captured_at else 0.0,
            stages_ms={k: result.timings.get(k, 0.0) for k in STAGES},
            faces=len(result.faces),
            faces_found=result.faces_found,
            face_limit_hit=result.face_limit_hit,
            dropped=grabber.dropped,
            processed=self._processed,
            recording_rows=self._recorder.rows if self._recorder else None,
            still=grabber.source.still,
            frame_name=frame.name,
            paused=paused,
            landmarks_on=pipeline is not None,
            pose_deg=first.pose.degrees() if first is not None and first.pose is not None else None,
            ears=(first.ear_left, first.ear_right) if first is not None else None,
            blinks=result.blinks,
            frame_index=frame.index,
            points=first.points if first is not None else None)
        self.frame_ready.emit(to_qimage(image), stats)
