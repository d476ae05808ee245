"""The landmark pipeline: RGB frame in, faces out.

    detect (when needed) -> crop -> MobileFAN -> heatmap decode -> frame coords -> smoothing

The GUI worker, the headless runner and the benchmarks all drive this one
object, so what is measured is what users run. Each stage is timed.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from core.clock import ClockWatch
from core.config import PipelineConfig, SmoothingConfig
from core.detector import BlazeFaceDetector
from core.errors import MobileFANError
from core.eyelids import EYELID_MODEL, EyelidRefiner
from core.face_search import FaceSearch
from core.face_measures import eye_aspect_ratios, mouth_opening
from core.geometry import Crop
from core.head_pose import HeadPoseEstimator
from core.images import is_too_small, to_rgb
from core.landmarks import Layout, layout_for
from core.mesh_blend import MeshBlend, mesh_blend_model
from core.mirror_test import MirrorAveragingRunner
from core.predictor import LandmarkPredictor, Prediction
from core.results import Box, FaceResult, FrameResult
from core.runtimes import open_runner
from core.threads import set_thread_counts
from core.tracker import Track, Tracker, points_box
from core.weights import WeightsError

if TYPE_CHECKING:
    from core.model import MobileFAN

STAGES = ("detect", "crop", "model", "decode", "eyes", "smooth", "measure")


@dataclass
class BegunFrame:
    """A frame through the face network (`LandmarkPipeline.begin`), waiting for `finish`."""
    rgb: np.ndarray
    timestamp: float
    still: bool
    frame_size: tuple[int, int]               # width, height
    timings: dict[str, float]
    tracks: list[Track] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)   # the network's points, one per track
    detector_ran: bool = False
    found: int = 0
    limit_hit: bool = False
    skipped: bool = False                     # too small to hold a face

    def keep_only(self, tracks: list[Track]) -> None:
        """Forget the faces whose tracks ended meanwhile (the frame before pruned them)."""
        kept = [(t, p) for t, p in zip(self.tracks, self.predictions) if any(t is u for u in tracks)]
        self.tracks, self.predictions = [t for t, _ in kept], [p for _, p in kept]


def detector_range_for(config_range: str, live: bool) -> str:
    """'auto' means short range for a camera (faces near it), full range for files."""
    if config_range != "auto":
        return config_range
    return "short" if live else "full"


def eyelid_refiner(config: PipelineConfig) -> EyelidRefiner | None:
    """The eyelid network a config runs after the face network, or None."""
    return EyelidRefiner(config.eyelid_weights or EYELID_MODEL) if config.eyelids else None


def second_looks(config: PipelineConfig, still: bool = False) -> tuple[EyelidRefiner | None, MeshBlend | None]:
    """The stages a config runs after the face network on a video frame, or with `still` on a photo
    (the eyelid network, the mesh blend), or None for each it leaves off: for whoever scores a model
    on labelled frames as the app runs it. A blend carried between frames (`mesh_interval` > 1) is
    scored as read on the frame itself: a lone labelled frame has no earlier reading to carry."""
    return eyelid_refiner(config), MeshBlend(points=config.points) if config.blends_mesh(still) else None


class LandmarkPipeline:
    def __init__(self, config: PipelineConfig, model: "MobileFAN | None" = None,
                 detector: BlazeFaceDetector | None = None) -> None:
        """The model comes from `config`'s weights file (the default run: its int8 export, no
        torch), or is a PyTorch `model` held in memory (tests, training)."""
        self.config = config
        if model is None:
            try:
                runner, model_config = open_runner(config.weights_path(), config.runtime, config.num_threads,
                                                   expected_points=config.points, spinning=config.ort_spinning,
                                                   decode_in_graph=config.decodes_in_graph())
            except WeightsError as exc:
                if config.weights is not None:
                    raise
                raise WeightsError(f"{exc} (the shipped weights belong there; see weights/MODEL_CARD.md)") from None
        else:
            from core.torch_runners import make_runner
            runner, model_config = make_runner(model, config.runtime, config.num_threads,
                                               spinning=config.ort_spinning,
                                               decode_in_graph=config.decodes_in_graph()), model.config
        if model_config.num_points != config.points:
            raise ValueError(f"model predicts {model_config.num_points} points, config asks for {config.points}")
        set_thread_counts(config.num_threads)           # after the runner: torch is loaded only if it needs it
        self.model_config = model_config
        if config.mirrors():
            runner = MirrorAveragingRunner(runner, layout_for(config.points))
        self.predictor = LandmarkPredictor(model_config, runner)
        # Photos are run mirrored by every model (PipelineConfig.mirrors): the same runner, its
        # heatmaps averaged with the mirror image's (a graph that decodes them puts out both).
        self.photo_predictor = self.predictor
        if config.mirrors(still=True) and not config.mirrors():
            mirrored = MirrorAveragingRunner(runner, layout_for(config.points))
            self.photo_predictor = LandmarkPredictor(model_config, mirrored)
        self.eyelids = eyelid_refiner(config)
        # The mesh on every frame is part of what the model was asked for (accurate, --mesh-blend):
        # a file that will not open is the run's error. Carried between frames (the default, small)
        # and on photos, it is the model's own extra: without it those faces go unblended, with one
        # warning.
        self.mesh_blend: MeshBlend | None = MeshBlend(points=config.points) if config.mesh_interval() == 1 else \
            self._open_mesh() if config.blends_mesh(still=True) else None
        self.layout: Layout = layout_for(config.points)
        self._detectors: dict[str, BlazeFaceDetector] = {}
        if detector is not None:
            self._detectors[detector.model_range] = detector
        self.detector_range = detector.model_range if detector is not None else \
            detector_range_for(config.detector_range, live=False)
        self.tracker = Tracker(self.layout, model_config.landmark_scale, config.smoothing, config.max_faces,
                               config.blink, config.crop_follow)
        self.head_pose = HeadPoseEstimator()
        self.clock = ClockWatch(config.clock)
        self._frames_since_detect = 0
        # The periodic search for new faces, a few frames ahead, with each track's box on its frame.
        self.search: FaceSearch[list[tuple[Track, Box]]] = FaceSearch()
        self.blinks = 0                       # blinks begun since the source was opened, all faces
        self._blinking: set[int] = set()      # face ids inside a blink on the last frame

    @property
    def detector(self) -> BlazeFaceDetector:
        """The detector for the current range, made on first use (each loads a TFLite graph)."""
        if self.detector_range not in self._detectors:
            self._detectors[self.detector_range] = BlazeFaceDetector(self.detector_range,
                                                                     self.config.detector_confidence)
        return self._detectors[self.detector_range]

    def prepare_for_source(self, live: bool) -> None:
        """A new source: forget the tracks, pick the detector range it needs and
        load that detector now, so the first frame is not the one that waits for it."""
        self.search.settle()
        self.detector_range = detector_range_for(self.config.detector_range, live)
        _ = self.detector                  # the property loads it
        self.reset()

    def warm_up(self) -> None:
        """Run the network once, and the mesh if video frames read it: a runtime's first call
        allocates and plans (tens of ms)."""
        size = self.model_config.input_size
        self.predictor.locate(np.zeros((1, size, size, 3), np.uint8))
        if self.mesh_blend is not None and self.config.blends_mesh():
            self.mesh_blend.read(np.zeros((size, size, 3), np.uint8), [Crop(size / 2, size / 2, size, 0.0)],
                                 self.model_config.landmark_scale)

    def reset(self) -> None:
        """Forget all tracks (and their filters) and the clock: a new source."""
        self.search.settle()
        self.tracker.reset()
        self.clock.reset()
        self._frames_since_detect = 0
        self.blinks, self._blinking = 0, set()

    def cut(self) -> None:
        """A break in the same source (loop, seek, restarted clock): tracks start afresh,
        new ids (core/clock.py)."""
        self.search.settle()
        self.tracker.cut()
        self._frames_since_detect = 0

    def set_smoothing(self, smoothing: SmoothingConfig) -> None:
        """Change the One Euro parameters live; the tracker hands them to its running filters."""
        self.config = replace(self.config, smoothing=smoothing)
        self.tracker.set_smoothing(smoothing)

    def process(self, rgb: np.ndarray, timestamp: float | None = None, still: bool = False,
                cut: bool = False) -> FrameResult:
        """Landmarks for every face in an RGB frame (grey, RGBA, float or 16-bit arrays are accepted).

        `still=True` treats the frame as an unrelated photo: no tracking from
        the previous frame, a tiled search for small faces, no smoothing.
        `cut=True` says the source broke its clock before this frame (it looped or
        seeked); a break the source does not report is found from `timestamp`.
        """
        return self.finish(self.begin(rgb, timestamp, still, cut))

    def begin(self, rgb: np.ndarray, timestamp: float | None = None, still: bool = False,
              cut: bool = False, clock_checked: bool = False) -> BegunFrame:
        """The first half of `process`: `start` (the clock, the detector when due) then
        `run_network` (crop, the face network, decode, each track's next crop)."""
        return self.run_network(self.start(rgb, timestamp, still, cut, clock_checked))

    def start(self, rgb: np.ndarray, timestamp: float | None = None, still: bool = False,
              cut: bool = False, clock_checked: bool = False) -> BegunFrame:
        """The clock, then the detector when it is due: which tracks this frame runs the network on.
        `clock_checked`: the caller already fed `timestamp` to the clock."""
        timings = dict.fromkeys(STAGES, 0.0)
        rgb = to_rgb(rgb)
        h, w = rgb.shape[:2]
        timestamp = time.monotonic() if timestamp is None else timestamp
        if is_too_small(rgb):
            return BegunFrame(rgb, timestamp, still, (w, h), timings, skipped=True)
        if still:
            self.reset()
        elif not clock_checked and self.clock.is_break(timestamp, reported=cut):
            self.cut()
        t0 = time.perf_counter()
        detector_ran, found, limit_hit = False, 0, False
        if self.detection_due(still):
            detector = self.detector
            seen_at_search: list[tuple[Track, Box]] = []
            if still or not self.tracker.tracks:      # nothing to track: detect now
                self.search.settle()
                detections = detector.detect_tiled(rgb) if still else detector.detect(rgb)
            else:                                     # new faces, searched for `search_lag` frames ago
                if not self.search.in_flight:
                    self._start_search(rgb)
                detections, seen_at_search = self.search.collect()
            scale = self.model_config.landmark_scale
            limit_hit = self.tracker.add_detections([d.box for d in detections],
                                                    [detector.crop_for(d, scale) for d in detections],
                                                    [d.score for d in detections], seen_at_search)
            self._frames_since_detect = 0
            detector_ran, found = True, len(detections)
        else:
            self._frames_since_detect += 1
            # The search whose faces join on frame redetect_every + 1 after the last detection.
            if not self.search.in_flight and \
                    self._frames_since_detect >= self.config.redetect_every + 1 - self.config.search_lag:
                self._start_search(rgb)
        timings["detect"] = (time.perf_counter() - t0) * 1e3
        return BegunFrame(rgb, timestamp, still, (w, h), timings, list(self.tracker.tracks), [], detector_ran,
                          found, limit_hit)

    def _start_search(self, rgb: np.ndarray) -> None:
        """The search for new faces on this frame, in its thread; the tracks' crops on this frame
        (framed by the network's chain, the same in serial and overlapped runs) say later which
        detections are faces already tracked."""
        self.search.start(self.detector.detect, rgb, [(t, t.crop.box()) for t in self.tracker.tracks])

    def run_network(self, begun: BegunFrame) -> BegunFrame:
        """Crop, the face network and decode for `begun`'s tracks, and each track's next crop.

        Of the pipeline's state it reads and writes only the tracks' crops (and whether landmarks
        framed them), which `finish` never touches: so it may run in another thread while the
        previous frame's `finish` runs (core/frame_overlap.py)."""
        if begun.skipped:
            return begun
        rgb, tracks = begun.rgb, begun.tracks
        predictor = self.photo_predictor if begun.still else self.predictor
        t1 = time.perf_counter()
        crops = [t.crop for t in tracks]
        patches = predictor.crops(rgb, crops)
        t2 = time.perf_counter()
        points, scores = predictor.locate(patches)     # the decoding too, when it runs in the graph
        t3 = time.perf_counter()
        predictions = predictor.to_frame(points, scores, crops)
        if self.config.second_pass:
            # A face framed by the detector (a photo, a new track) is framed less well than one
            # framed by landmarks: predict again from a crop framed by the first answer.
            fresh = [i for i, t in enumerate(tracks) if not t.framed_by_landmarks]
            if fresh:
                again = [predictor.crop_from_landmarks(predictions[i].points) for i in fresh]
                for i, pred in zip(fresh, predictor.predict(rgb, again)):
                    predictions[i] = pred
        for track, pred in zip(tracks, predictions):
            self.tracker.follow(track, pred.points)
        t4 = time.perf_counter()
        begun.predictions = predictions
        begun.timings.update(crop=(t2 - t1) * 1e3, model=(t3 - t2) * 1e3, decode=(t4 - t3) * 1e3)
        return begun

    def may_start_ahead(self, timestamp: float, cut: bool = False) -> bool:
        """Whether the next video frame may be `start`ed (and its network run) before this frame's
        `finish`, with the answers `process` would give in order: only when nothing `finish` may
        change decides it. Not when the detector is due (it reads the tracks' smoothed boxes), nor
        at a break in the clock (it resets the tracks)."""
        return not self.detection_due() and not self.clock.would_break(timestamp, cut)

    def after_finish(self, begun: BegunFrame, rgb: np.ndarray, timestamp: float, cut: bool = False) -> BegunFrame:
        """A frame begun ahead (`may_start_ahead`), as `begin` would have begun it after the
        previous frame's `finish`: the faces whose tracks that `finish` ended are dropped, and if
        it ran on faces and none is left, the frame begins again (with the detector)."""
        had_faces = bool(begun.tracks)
        begun.keep_only(self.tracker.tracks)
        if had_faces and not begun.tracks:
            return self.begin(rgb, timestamp, cut=cut, clock_checked=True)
        return begun

    def _open_mesh(self) -> MeshBlend | None:
        """The mesh for a blend the model chose itself, or None (and one warning) if it will not open."""
        try:
            return MeshBlend(points=self.config.points)
        except MobileFANError as exc:   # the file missing or damaged (WeightsError), no ONNX Runtime
            warnings.warn(f"faces go unblended by the face mesh: {mesh_blend_model(self.config.points)} "
                          f"would not open ({exc})")
            return None

    def blend_for(self, still: bool) -> MeshBlend | None:
        """The mesh blend a video frame (or with `still`, a photo) gets, if any."""
        return self.mesh_blend if self.config.blends_mesh(still) else None

    def _blend(self, mesh_blend: MeshBlend, rgb: np.ndarray, tracks: list[Track], predictions: list[Prediction],
               still: bool) -> None:
        """Each face's points moved by the mesh's correction: read on this frame for the faces due
        one (every frame, or every `mesh_interval`-th frame of a track), carried from the last
        reading for the others."""
        every = self.config.mesh_interval(still)
        due = [i for i, t in enumerate(tracks)
               if every <= 1 or t.mesh_correction is None or t.frames_since_mesh + 1 >= every]
        if due:
            read = mesh_blend.corrections(rgb, [predictions[i].points for i in due], [predictions[i].crop for i in due],
                                          self.model_config.landmark_scale, mirror=self.config.mirrors(still))
            for i, correction in zip(due, read):
                tracks[i].mesh_correction, tracks[i].frames_since_mesh = correction, -1
        for track, pred in zip(tracks, predictions):
            track.frames_since_mesh += 1
            pred.points = mesh_blend.apply(pred.points, pred.crop, track.mesh_correction)

    def detection_due(self, still: bool = False) -> bool:
        """Whether the next `begin` runs the detector: a photo, no tracks, or time to look for new faces."""
        return still or not self.tracker.tracks or self._frames_since_detect >= self.config.redetect_every

    def finish(self, begun: BegunFrame) -> FrameResult:
        """The second half of `process`: eyelids, smoothing, lost tracks, head pose and eye measures."""
        timings = begun.timings
        w, h = begun.frame_size
        if begun.skipped:
            return FrameResult([], timings, False, (w, h))
        tracks, predictions, still, timestamp = begun.tracks, begun.predictions, begun.still, begun.timestamp
        t4 = time.perf_counter()
        mesh_blend = self.blend_for(still)
        if mesh_blend is not None and predictions:     # before the lids: they are placed from the corners
            self._blend(mesh_blend, begun.rgb, tracks, predictions, still)
        if self.eyelids is not None and predictions:
            for pred, points in zip(predictions, self.eyelids.refine(begun.rgb, [p.points for p in predictions])):
                pred.points = points
        t4e = time.perf_counter()

        smooth = self.config.smoothing.enabled and not still
        for track, pred in zip(tracks, predictions):
            self.tracker.update(track, pred.points, float(pred.scores.mean()), timestamp, smooth)
        # Lost faces are reported once, flagged unsuccessful, then their track ends.
        lost = self.tracker.prune(self.config.min_track_score)
        t5 = time.perf_counter()
        camera = self.config.camera.for_frame(w, h)
        faces = [self._measure(t, t not in lost, camera, timestamp, still) for t in self.tracker.tracks + lost]
        t6 = time.perf_counter()

        timings.update(eyes=(t4e - t4) * 1e3, smooth=(t5 - t4e) * 1e3, measure=(t6 - t5) * 1e3)
        faces.sort(key=lambda f: f.face_id)
        blinking = {f.face_id for f in faces if f.blink}
        self.blinks += len(blinking - self._blinking)
        self._blinking = blinking
        return FrameResult(faces, timings, begun.detector_ran, (w, h), begun.found, begun.limit_hit, camera,
                           self.blinks)

    def _measure(self, track, success: bool, camera, timestamp: float, still: bool) -> FaceResult:
        """Head pose (from the recorded points), eye openness, blink and mouth (from the raw
        points: smoothing would flatten a blink)."""
        track.pose = self.head_pose.estimate(track.points, camera, None if still else track.pose)
        ear_left, ear_right = eye_aspect_ratios(track.raw_points)
        blink = False if still else track.blinks.update((ear_left + ear_right) / 2, timestamp)
        return FaceResult(track.face_id, points_box(track.points), track.points, track.raw_points, track.score,
                          success, track.pose, ear_left, ear_right, blink, mouth_opening(track.raw_points))

    def close(self) -> None:
        self.search.close()
        for detector in self._detectors.values():
            detector.close()
        self._detectors.clear()
