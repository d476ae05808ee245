"""The eyelid network (core/eyelids.py): eye crops framed from the corners, lids re-placed, the rest kept."""
import cv2
import numpy as np
import pytest

from core.config import PipelineConfig
from core.eyelids import EYES_68, EyeCropConfig, EyelidRefiner, eye_crop_matrix, to_frame
from core.face_measures import eye_aspect_ratios
from core.pipeline import LandmarkPipeline


def test_an_eye_crop_puts_the_corners_level_outer_on_the_left_for_both_eyes():
    cfg = EyeCropConfig(size=64, per_eye_width=2.0)
    c, half = 31.5, 16.0
    for mirror, outer, inner in ((False, (100.0, 50.0), (130.0, 56.0)), (True, (230.0, 56.0), (200.0, 50.0))):
        m = eye_crop_matrix(np.array(outer), np.array(inner), cfg, mirror)
        got = np.array([outer, inner]) @ m[:, :2].T + m[:, 2]
        assert np.allclose(got, [[c - half, c], [c + half, c]], atol=1e-6)
        below = np.array([(outer[0] + inner[0]) / 2, (outer[1] + inner[1]) / 2 + 10.0])
        assert (below @ m[:, :2].T + m[:, 2])[1] > c                     # down the face is down the crop
        assert np.allclose(to_frame(m, got), [outer, inner], atol=1e-6)


@pytest.fixture(scope="module")
def face_points(astronaut):
    pipe = LandmarkPipeline(PipelineConfig(detector_range="full", eyelids=False))
    points = pipe.process(astronaut, still=True).faces[0].raw_points
    pipe.close()
    return points


def test_the_refiner_moves_the_lids_only(astronaut, face_points):
    refined = EyelidRefiner().refine(astronaut, [face_points])[0]
    lids = [i for _, _, group in EYES_68 for i in group]
    others = [i for i in range(68) if i not in lids]
    assert np.array_equal(refined[others], face_points[others])          # corners and the rest: the face network's
    iod = np.linalg.norm(face_points[36] - face_points[45])
    assert np.linalg.norm(refined[lids] - face_points[lids], axis=1).max() < 0.1 * iod   # near where they were
    assert all(0.15 < ear < 0.45 for ear in eye_aspect_ratios(refined))  # open eyes read open


def test_painting_the_eyes_shut_closes_the_refined_lids(astronaut, face_points):
    """The astronaut's eyes covered with the skin below them: the eyelid network reads them closed,
    where the face network alone barely moves its lids."""
    shut = astronaut.copy()
    for outer, inner, lids in EYES_68:
        eye = face_points[[outer, *lids, inner]].astype(np.float32)
        centre, width = eye.mean(axis=0), np.linalg.norm(face_points[outer] - face_points[inner])
        mask = np.zeros(shut.shape[:2], np.uint8)
        cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (int(0.62 * width), int(0.3 * width)),
                    float(np.degrees(np.arctan2(*(face_points[inner] - face_points[outer])[::-1]))), 0, 360, 255, -1)
        shut = cv2.inpaint(shut, mask, 5, cv2.INPAINT_TELEA)
        # a lash line where the lids meet
        a, b = face_points[outer].astype(int), face_points[inner].astype(int)
        cv2.line(shut, tuple(a), tuple(b), (40, 30, 30), 2, cv2.LINE_AA)
    refiner = EyelidRefiner()
    open_ears = np.mean(eye_aspect_ratios(refiner.refine(astronaut, [face_points])[0]))
    shut_ears = np.mean(eye_aspect_ratios(refiner.refine(shut, [face_points])[0]))
    assert shut_ears < 0.6 * open_ears, (open_ears, shut_ears)


def test_the_pipeline_uses_it_by_default_and_it_can_be_turned_off(astronaut):
    on = LandmarkPipeline(PipelineConfig(detector_range="full"))
    off = LandmarkPipeline(PipelineConfig(detector_range="full", eyelids=False))
    a, b = on.process(astronaut, still=True).faces[0], off.process(astronaut, still=True).faces[0]
    lids = [i for _, _, group in EYES_68 for i in group]
    assert on.eyelids is not None and off.eyelids is None
    assert not np.allclose(a.raw_points[lids], b.raw_points[lids])
    assert np.allclose(np.delete(a.raw_points, lids, axis=0), np.delete(b.raw_points, lids, axis=0))
    on.close(), off.close()


def test_another_eyelid_network_runs_where_the_config_points(astronaut, tmp_path):
    """A smaller eyelid network (another crop size and width, as `training.eyelid_net --crop-size --width`
    trains) exported with `--to` runs in the pipeline through `PipelineConfig.eyelid_weights`, crop
    geometry read from its own metadata; the shipped one stays the default."""
    import torch

    from training.eyelid_net import EyelidNet, export, save
    torch.manual_seed(0)
    net = EyelidNet(EyeCropConfig(size=32), width=8).eval()
    save(net, tmp_path / "small.pt", {"epoch": 0})
    onnx_path = export(tmp_path / "small.pt", tmp_path / "small_eyelids.onnx")
    assert onnx_path.exists() and (tmp_path / "small_eyelids.pt").exists()
    other = LandmarkPipeline(PipelineConfig(detector_range="full", eyelid_weights=onnx_path))
    shipped = LandmarkPipeline(PipelineConfig(detector_range="full"))
    assert other.eyelids.crop.size == 32 and shipped.eyelids.crop.size == 64
    a, b = other.process(astronaut, still=True).faces[0], shipped.process(astronaut, still=True).faces[0]
    lids = [i for _, _, group in EYES_68 for i in group]
    assert not np.allclose(a.raw_points[lids], b.raw_points[lids], atol=0.5)   # an untrained net's lids
    assert np.allclose(np.delete(a.raw_points, lids, axis=0), np.delete(b.raw_points, lids, axis=0))
    other.close(), shipped.close()


def test_the_trainer_refuses_a_crop_its_four_stages_cannot_halve():
    from training.eyelid_net import main
    with pytest.raises(SystemExit):
        main(["--data", "unused.jsonl", "--out", "unused", "--crop-size", "40"])
