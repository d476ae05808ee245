import numpy as np
import pytest

from core.config import PipelineConfig, SmoothingConfig
from core.detector import BlazeFaceDetector
from core.geometry import crop_to_frame
from core.images import FrameError
from core.model import WeightsError, load_checkpoint
from core.pipeline import STAGES, LandmarkPipeline
from core.predictor import LandmarkPredictor, Prediction
from core.synthetic_video import astronaut_rgb, moving_face_frames


class CountingDetector(BlazeFaceDetector):
    calls = 0

    def detect(self, rgb, graph=None):
        self.calls += 1
        return super().detect(rgb, graph)


def make_pipeline(weights, **overrides):
    cfg = PipelineConfig(weights=weights, detector_range="full", runtime="onnxruntime", **overrides)
    return LandmarkPipeline(cfg, detector=CountingDetector("full", 0.5))


def test_missing_weights_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        LandmarkPipeline(PipelineConfig(weights=tmp_path / "missing.pt"))


def test_result_shapes_and_stage_timings(tiny_weights, astronaut):
    pipe = make_pipeline(tiny_weights, min_track_score=0.0)
    result = pipe.process(astronaut, 0.0)
    assert len(result.faces) == 1
    face = result.faces[0]
    assert face.points.shape == (68, 2) and face.raw_points.shape == (68, 2)
    assert set(result.timings) == set(STAGES) and all(v >= 0 for v in result.timings.values())
    assert result.detector_ran and result.frame_size == (512, 512)


class OraclePredictor(LandmarkPredictor):
    """Answers every crop with the same well-framed face shape, at full confidence:
    isolates the tracker's logic from the (here untrained) network."""

    def __init__(self, predictor):
        super().__init__(predictor.config, predictor.runner)
        rng = np.random.default_rng(0)
        size = self.config.input_size
        half = size / self.config.landmark_scale / 2      # framed exactly as training frames faces
        centre = (size - 1) / 2
        shape = rng.uniform(centre - half, centre + half, (68, 2))
        shape[0], shape[16] = (centre - half, centre - half), (centre + half, centre + half)
        shape[36], shape[45] = (centre - 25, centre - 10), (centre + 25, centre - 10)
        self.shape = shape

    def to_frame(self, points, scores, crops):
        size = self.config.input_size
        return [Prediction(crop_to_frame(c, self.shape, size).astype(np.float32), np.ones(68), c) for c in crops]


def test_tracking_skips_the_detector_and_keeps_ids(tiny_weights):
    pipe = make_pipeline(tiny_weights, redetect_every=10)
    pipe.predictor = OraclePredictor(pipe.predictor)
    frames = moving_face_frames(astronaut_rgb(), 40, (480, 360))
    ids = set()
    for i, frame in enumerate(frames):
        result = pipe.process(frame, i / 30)
        ids |= {f.face_id for f in result.faces}
        assert len(result.faces) == 1
    assert pipe.detector.calls <= 5            # 40 frames, a detector run every 10 + the first
    assert ids == {0}                          # one face, one stable id


def test_lost_track_is_reported_unsuccessful_and_redetected(tiny_weights, astronaut):
    pipe = make_pipeline(tiny_weights, min_track_score=2.0)   # an untrained model never scores 2
    first = pipe.process(astronaut, 0.0)
    assert [f.success for f in first.faces] == [False]
    assert pipe.tracker.tracks == []
    pipe.process(astronaut, 0.1)
    assert pipe.detector.calls == 2            # no track left, so the detector runs again


def test_smoothing_off_gives_raw_points(tiny_weights):
    pipe = make_pipeline(tiny_weights, min_track_score=0.0, smoothing=SmoothingConfig(enabled=False))
    frames = moving_face_frames(astronaut_rgb(), 5, (480, 360))
    for i, frame in enumerate(frames):
        for face in pipe.process(frame, i / 30).faces:
            assert np.array_equal(face.points, face.raw_points)


def test_smoothing_parameters_change_live(tiny_weights, astronaut):
    pipe = make_pipeline(tiny_weights, min_track_score=0.0)
    pipe.process(astronaut, 0.0)
    pipe.set_smoothing(SmoothingConfig(enabled=True, min_cutoff=0.3, beta=9.0))
    assert pipe.tracker.tracks[0].filter.min_cutoff == 0.3 and pipe.tracker.tracks[0].filter.beta == 9.0


@pytest.mark.parametrize("kind", ["grey", "grey_channel", "rgba", "float", "uint16"])
def test_unusual_frames_are_handled(tiny_weights, astronaut, kind):
    frame = {
        "grey": astronaut.mean(axis=2).astype(np.uint8),
        "grey_channel": astronaut.mean(axis=2, keepdims=True).astype(np.uint8),
        "rgba": np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)]),
        "float": astronaut.astype(np.float32) / 255.0,
        "uint16": astronaut.astype(np.uint16) * 257,
    }[kind]
    result = make_pipeline(tiny_weights, min_track_score=0.0).process(frame, 0.0)
    assert len(result.faces) == 1


def test_tiny_frame_gives_no_faces(tiny_weights):
    assert make_pipeline(tiny_weights).process(np.zeros((8, 8, 3), np.uint8)).faces == []


@pytest.mark.parametrize("bad", [np.zeros((0, 0, 3), np.uint8), np.zeros((10, 10, 5), np.uint8), np.zeros(7)])
def test_non_images_raise_a_clear_error(tiny_weights, bad):
    with pytest.raises(FrameError):
        make_pipeline(tiny_weights).process(bad)


def test_model_and_config_must_agree(tiny_weights):
    model = load_checkpoint(tiny_weights).model
    with pytest.raises(ValueError, match="68 points"):
        LandmarkPipeline(PipelineConfig(points=98), model=model)


def test_detector_range_follows_the_source(tiny_weights):
    pipe = LandmarkPipeline(PipelineConfig(weights=tiny_weights))          # detector_range "auto"
    pipe.prepare_for_source(live=True)
    assert pipe.detector.model_range == "short"                            # a webcam: faces near it
    pipe.prepare_for_source(live=False)
    assert pipe.detector.model_range == "full"                             # photos and videos: far faces too
    fixed = LandmarkPipeline(PipelineConfig(weights=tiny_weights, detector_range="short"))
    fixed.prepare_for_source(live=False)
    assert fixed.detector.model_range == "short"
    pipe.close()
    fixed.close()


def test_more_faces_than_the_limit_are_reported(tiny_weights, astronaut):
    from conftest import two_faces
    pipe = make_pipeline(tiny_weights, min_track_score=0.0, max_faces=1)
    result = pipe.process(two_faces(astronaut), still=True)
    assert len(result.faces) == 1 and result.faces_found == 2 and result.face_limit_hit
    assert not make_pipeline(tiny_weights, min_track_score=0.0).process(two_faces(astronaut), still=True).face_limit_hit


class BlinkingOracle(OraclePredictor):
    """The oracle's face, its eyelids shut (upper and lower lid points meet) on the frames asked."""

    def __init__(self, predictor, closed_frames):
        super().__init__(predictor)
        self.closed_frames, self.frame = set(closed_frames), -1
        eyes = self.shape
        for corner_a, corner_b, lids in ((36, 39, (37, 38, 41, 40)), (42, 45, (43, 44, 47, 46))):
            a = eyes[36] + np.array([0.0, 0.0]) if corner_a == 36 else eyes[45] - np.array([20.0, 0.0])
            b = a + np.array([16.0, 0.0])
            eyes[corner_a], eyes[corner_b] = a, b
            eyes[lids[0]], eyes[lids[1]] = a + [5, -5], a + [11, -5]      # upper lid
            eyes[lids[2]], eyes[lids[3]] = a + [5, 5], a + [11, 5]         # lower lid
        self.open = eyes.copy()

    def to_frame(self, points, scores, crops):
        self.frame += 1
        self.shape = self.open.copy()
        if self.frame in self.closed_frames:
            for lid in (37, 38, 41, 40, 43, 44, 47, 46):
                self.shape[lid, 1] = self.open[36 if lid < 42 else 45, 1]      # the lids meet
        return super().to_frame(points, scores, crops)


def test_the_pipeline_counts_blinks_for_the_window_and_headless_alike(tiny_weights, face_video):
    """Blink counts come from the pipeline (FrameResult.blinks), so the window and a headless
    run (its summary) report the same number; the window no longer counts them itself."""
    from core.headless import run_headless
    from core.sources import open_source
    closed = [20, 21, 22, 50, 51, 52, 53]                        # two closures of 3-4 frames
    # eyelids=False, mesh_blend=False: the oracle's lids are the truth here; the eyelid network and
    # the face mesh would re-measure them from the (open-eyed) picture
    pipe = make_pipeline(tiny_weights, second_pass=False, eyelids=False, mesh_blend=False)
    pipe.predictor = BlinkingOracle(pipe.predictor, closed)
    counts = [pipe.process(frame, i / 30).blinks for i, frame in
              enumerate(moving_face_frames(astronaut_rgb(), 70, (480, 360)))]
    assert counts[19] == 0 and counts[23] == 1 and counts[-1] == 2
    pipe.predictor = BlinkingOracle(pipe.predictor, closed)
    summary = run_headless(open_source(face_video), pipe, progress=False)
    assert summary.blinks == 2 and pipe.blinks == 2


def test_configs_are_frozen_and_replaced(tiny_weights, astronaut):
    import dataclasses
    config = PipelineConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.points = 98
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.smoothing.beta = 1.0
    pipe = make_pipeline(tiny_weights, min_track_score=0.0)
    before = pipe.config
    pipe.process(astronaut, 0.0)
    pipe.set_smoothing(SmoothingConfig(min_cutoff=0.3))
    assert pipe.config.smoothing.min_cutoff == 0.3 and before.smoothing.min_cutoff != 0.3    # replaced, not mutated
    assert pipe.tracker.smoothing.min_cutoff == 0.3
