"""Test-time mirroring (core/mirror_test.py): the mirrored answer is flipped back onto the
right pixels and the right landmark numbers before it is averaged."""
import numpy as np
import pytest

from core.landmarks import LAYOUT_68, LAYOUT_98
from core.mirror_test import MirrorAveragingRunner


class ChannelTimesImage:
    """A fake network: heatmap k is the image's first channel x weights[k] (input size = heatmap size)."""
    name = "fake"

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights
        self.calls: list[int] = []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls.append(len(batch))
        return batch[:, :1] * self.weights[None, :, None, None]


def _batch(n: int = 3, size: int = 12) -> np.ndarray:
    return np.random.default_rng(0).random((n, 3, size, size)).astype(np.float32)


@pytest.mark.parametrize("layout", [LAYOUT_68, LAYOUT_98])
def test_a_mirror_symmetric_network_is_left_unchanged(layout):
    """Every heatmap the same function of the image: the mirrored answer flipped back is the
    direct one, so the average is too. A flip along the wrong axis (or none) would not be."""
    fake = ChannelTimesImage(np.ones(layout.num_points, np.float32))
    batch = _batch()
    out = MirrorAveragingRunner(fake, layout)(batch)
    np.testing.assert_allclose(out, fake(batch), atol=1e-6)
    assert fake.calls[0] == 2 * len(batch)            # both views in one call


@pytest.mark.parametrize("layout", [LAYOUT_68, LAYOUT_98])
def test_the_mirrored_answer_is_renumbered(layout):
    """Heatmap k weighted k + 1: the mirrored pass answers point k with its mirror partner's
    channel, so the average of channel k is the image x (k + 1 + partner + 1) / 2."""
    n = layout.num_points
    fake = ChannelTimesImage(np.arange(1, n + 1, dtype=np.float32))
    batch = _batch(2)
    out = MirrorAveragingRunner(fake, layout)(batch)
    partner = np.array(layout.flip_permutation)
    assert partner[36 if n == 68 else 60] == (45 if n == 68 else 72)   # outer eye corners swap
    expected = batch[:, :1] * ((np.arange(n) + 1 + partner + 1) / 2)[None, :, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_no_faces_no_call_of_twice_nothing():
    fake = ChannelTimesImage(np.ones(68, np.float32))
    out = MirrorAveragingRunner(fake, LAYOUT_68)(np.zeros((0, 3, 12, 12), np.float32))
    assert out.shape[0] == 0 and fake.calls == [0]


def test_mirrored_points_stay_on_a_real_face(astronaut):
    """The shipped default model on a real photo: the mirrored-and-averaged points lie within a
    few hundredths of the eye distance of the direct ones (a wrong flip or numbering would put
    them a whole face width away), and they are not identical (the second pass was used)."""
    from core.config import PipelineConfig, default_weights_path
    from core.landmarks import interocular
    from core.pipeline import LandmarkPipeline
    from core.predictor import LandmarkPredictor
    from core.runtimes import open_runner

    found = LandmarkPipeline(PipelineConfig(detector_range="full")).process(astronaut, still=True).faces
    assert len(found) == 1
    runner, config = open_runner(default_weights_path(68), "onnxruntime", threads=2)
    direct = LandmarkPredictor(config, runner)
    crop = direct.crop_from_landmarks(found[0].points)
    a = direct.predict(astronaut, [crop])[0].points
    b = LandmarkPredictor(config, MirrorAveragingRunner(runner, LAYOUT_68)).predict(astronaut, [crop])[0].points
    gap = np.linalg.norm(a - b, axis=1) / interocular(a, LAYOUT_68)
    assert gap.mean() < 0.03
    assert gap.max() > 1e-4


def test_mirroring_is_on_for_the_accurate_model_only_unless_asked():
    from core.config import PipelineConfig
    from main import build_parser, make_config
    assert PipelineConfig(model="accurate").mirrors()
    assert not PipelineConfig(model="default").mirrors() and not PipelineConfig(model="small").mirrors()
    assert not PipelineConfig(model="accurate", mirror=False).mirrors()
    assert PipelineConfig(model="small", mirror=True).mirrors()
    parser = build_parser()
    assert make_config(parser.parse_args(["--mirror"]), 68).mirrors()
    assert not make_config(parser.parse_args(["--model", "accurate", "--no-mirror"]), 68).mirrors()
    assert make_config(parser.parse_args(["--model", "accurate"]), 68).mirrors()


def test_photos_are_mirrored_by_every_model_unless_told_otherwise():
    from core.config import PipelineConfig
    assert all(PipelineConfig(model=m).mirrors(still=True) for m in ("default", "small", "accurate"))
    assert all(PipelineConfig(model=m, points=98).mirrors(still=True) for m in ("default", "accurate"))
    assert not PipelineConfig(model="default", mirror=False).mirrors(still=True)      # --no-mirror: none


def test_the_default_runs_photos_mirrored_and_video_frames_once(astronaut):
    """A photo's answer is the mirrored pipeline's, a video frame's the plain one's: the two
    predictors share one runner."""
    from core.config import PipelineConfig
    from core.pipeline import LandmarkPipeline
    config = dict(detector_range="full", mesh_blend=False, eyelids=False)
    default = LandmarkPipeline(PipelineConfig(**config))
    plain = LandmarkPipeline(PipelineConfig(mirror=False, **config))
    mirrored = LandmarkPipeline(PipelineConfig(mirror=True, **config))
    assert isinstance(default.photo_predictor.runner, MirrorAveragingRunner)
    assert default.photo_predictor.runner.runner is default.predictor.runner
    frame = default.process(astronaut, 0.0).faces[0].points          # first: a fresh track in each
    assert np.allclose(frame, plain.process(astronaut, 0.0).faces[0].points, atol=1e-3)
    photo = default.process(astronaut, still=True).faces[0].points
    assert np.allclose(photo, mirrored.process(astronaut, still=True).faces[0].points, atol=1e-3)
    assert np.abs(photo - plain.process(astronaut, still=True).faces[0].points).max() > 0.05


def test_the_pipeline_runs_the_mirrored_network_when_asked(astronaut):
    from core.config import PipelineConfig
    from core.pipeline import LandmarkPipeline
    plain = LandmarkPipeline(PipelineConfig(detector_range="full", mirror=False))
    mirrored = LandmarkPipeline(PipelineConfig(detector_range="full", mirror=True))
    assert isinstance(mirrored.predictor.runner, MirrorAveragingRunner)
    assert not isinstance(plain.predictor.runner, MirrorAveragingRunner)
    a = plain.process(astronaut, still=True).faces
    b = mirrored.process(astronaut, still=True).faces
    assert len(a) == len(b) == 1 and b[0].success
    assert 0 < np.abs(a[0].points - b[0].points).max() < 5.0     # pixels, on a 512 px photo
