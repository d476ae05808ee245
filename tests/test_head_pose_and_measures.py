"""Head pose, eye aspect ratio, blinks and mouth opening, against known geometry."""
import math

import numpy as np
import pytest

from core.config import BlinkConfig, CameraIntrinsics, CameraOverrides
from core.face_measures import BlinkDetector, eye_aspect_ratio, eye_aspect_ratios, mouth_opening
from core.head_pose import HeadPoseEstimator
from core.landmarks import LAYOUT_98, WFLW_TO_68
from core.mean_face import MEAN_FACE_68
from core.rotations import euler_xyz, rotation_angle_deg, rotation_xyz, similarity_align


def project(points3d, rotation, translation, camera):
    cam = points3d @ rotation.T + translation
    return np.stack([camera.fx * cam[:, 0] / cam[:, 2] + camera.cx, camera.fy * cam[:, 1] / cam[:, 2] + camera.cy], 1)


def test_openface_intrinsics_from_the_frame_size():
    cam = CameraIntrinsics.from_frame(640, 480)
    assert (cam.fx, cam.fy, cam.cx, cam.cy) == (500.0, 500.0, 320.0, 240.0)
    cam = CameraIntrinsics.from_frame(1280, 720)
    assert cam.fx == pytest.approx(500 * (2 + 1.5) / 2) and (cam.cx, cam.cy) == (640, 360)
    given = CameraOverrides(fx=900.0, cy=100.0).for_frame(640, 480)
    assert (given.fx, given.fy, given.cx, given.cy) == (900.0, 900.0, 320.0, 100.0)


def test_euler_angles_follow_r_equals_rx_ry_rz():
    rx, ry, rz = 0.3, -0.5, 0.2
    expected = (np.array([[1, 0, 0], [0, math.cos(rx), -math.sin(rx)], [0, math.sin(rx), math.cos(rx)]])
                @ np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
                @ np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]]))
    assert np.allclose(rotation_xyz(rx, ry, rz), expected)
    assert np.allclose(euler_xyz(expected), (rx, ry, rz))


@pytest.mark.parametrize("pitch,yaw,roll", [(0, 0, 0), (10, 30, 0), (-15, -45, 10), (5, 60, -20), (20, -10, 30)])
def test_a_projected_mean_face_round_trips_to_its_pose(pitch, yaw, roll):
    """Known rotation and position -> 2D points (with half-pixel noise) -> PnP -> the same pose."""
    camera = CameraIntrinsics.from_frame(640, 480)
    rotation = rotation_xyz(*np.radians([pitch, yaw, roll]))
    translation = np.array([30.0, -20.0, 600.0])
    points = project(MEAN_FACE_68, rotation, translation, camera)
    points += np.random.default_rng(0).normal(0, 0.5, points.shape)
    pose = HeadPoseEstimator().estimate(points, camera)
    assert rotation_angle_deg(pose.rotation, rotation) < 2.0
    assert np.allclose(pose.degrees(), (pitch, yaw, roll), atol=2.0)
    assert np.linalg.norm(pose.translation - translation) < 15.0


def test_98_point_faces_use_their_68_shared_points():
    camera = CameraIntrinsics.from_frame(640, 480)
    rotation = rotation_xyz(*np.radians([5, -20, 3]))
    points68 = project(MEAN_FACE_68, rotation, np.array([0.0, 0.0, 500.0]), camera)
    points98 = np.zeros((98, 2))
    points98[list(WFLW_TO_68)] = points68
    assert LAYOUT_98.num_points == 98
    pose = HeadPoseEstimator().estimate(points98, camera)
    assert rotation_angle_deg(pose.rotation, rotation) < 0.5


def test_turning_right_and_looking_down_have_openface_signs():
    camera = CameraIntrinsics.from_frame(640, 480)
    est = HeadPoseEstimator()
    tilted = project(MEAN_FACE_68, rotation_xyz(math.radians(20), 0, 0), np.array([0, 0, 600.0]), camera)
    frontal = project(MEAN_FACE_68, np.eye(3), np.array([0, 0, 600.0]), camera)
    # Rx = +20 degrees is a head tilted down: the nose tip (30) drops towards the chin.
    assert tilted[30, 1] - tilted[36, 1] > frontal[30, 1] - frontal[36, 1] + 5
    assert est.estimate(tilted, camera).rx > 0
    towards_image_left = est.estimate(project(MEAN_FACE_68, rotation_xyz(0, math.radians(30), 0),
                                              np.array([0, 0, 600.0]), camera), camera)
    tip = project(MEAN_FACE_68, rotation_xyz(0, math.radians(30), 0), np.array([0, 0, 600.0]), camera)[30]
    assert tip[0] < camera.cx and towards_image_left.ry > 0   # the nose points to the image's left


def test_mean_face_is_symmetric_and_sized_like_an_adult():
    from core.landmarks import LAYOUT_68
    mirrored = MEAN_FACE_68 * [-1, 1, 1]
    assert np.allclose(mirrored[list(LAYOUT_68.flip_permutation)], MEAN_FACE_68, atol=0.05)
    assert np.linalg.norm(MEAN_FACE_68[36] - MEAN_FACE_68[45]) == pytest.approx(90.0, abs=0.01)
    assert MEAN_FACE_68[30, 2] < MEAN_FACE_68[36, 2] - 20        # the nose tip stands out towards the camera
    assert 100 < MEAN_FACE_68[8, 1] < 140                         # chin 10-14 cm below the eye line


def test_similarity_alignment_recovers_scale_rotation_translation():
    rotation = rotation_xyz(0.2, -0.4, 0.1)
    target = 1.7 * MEAN_FACE_68 @ rotation.T + [5.0, -3.0, 40.0]
    s, r, t = similarity_align(MEAN_FACE_68, target)
    assert s == pytest.approx(1.7) and np.allclose(r, rotation) and np.allclose(t, [5.0, -3.0, 40.0])


def eye(width, height):
    """Six eye-contour points (p1..p6): corners at +-width/2, lids at +-height/2."""
    w, h = width / 2, height / 2
    return np.array([[-w, 0], [-w / 3, -h], [w / 3, -h], [w, 0], [w / 3, h], [-w / 3, h]], float)


def test_eye_aspect_ratio_is_the_papers_formula():
    assert eye_aspect_ratio(eye(30, 9), range(6)) == pytest.approx(9 / 30)
    assert eye_aspect_ratio(eye(30, 0), range(6)) == pytest.approx(0.0)
    face = MEAN_FACE_68[:, :2].copy()
    face[42:48] = eye(30, 3) + [60, 0]          # the subject's left eye (image right) nearly shut
    face[36:42] = eye(30, 9) + [-60, 0]
    left, right = eye_aspect_ratios(face)
    assert left == pytest.approx(0.1) and right == pytest.approx(0.3)


def test_mouth_opening_is_inner_lip_gap_over_eye_corner_distance():
    face = MEAN_FACE_68[:, :2].copy()
    face[62], face[66] = (0, 70), (0, 88)
    assert mouth_opening(face) == pytest.approx(18 / 90)


def ear_series(closed_runs, frames=200, open_ear=0.3, closed_ear=0.05):
    ear = np.full(frames, open_ear)
    for start, length in closed_runs:
        ear[start:start + length] = closed_ear
    return ear


def run_detector(ear, fps=30.0, config=BlinkConfig()):
    det = BlinkDetector(config)
    flags = [det.update(float(e), i / fps) for i, e in enumerate(ear)]
    return np.array(flags), det.blinks


def test_blinks_are_flagged_and_counted():
    ear = ear_series([(40, 4), (100, 6), (150, 3)])
    flags, count = run_detector(ear)
    assert count == 3
    assert set(np.flatnonzero(flags)) == {41, 42, 43, 101, 102, 103, 104, 105, 151, 152}   # from the 2nd frame
    assert not flags[:40].any() and not flags[44:100].any()


def test_a_single_frame_dip_is_noise():
    flags, count = run_detector(ear_series([(60, 1), (120, 1)]))
    assert count == 0 and not flags.any()


def test_a_long_closure_is_not_a_blink_and_the_baseline_adapts_to_the_person():
    flags, count = run_detector(ear_series([(50, 60)]))         # 2 s with eyes shut
    assert count == 0 and not flags[50 + 31:].any()             # flagged at most for its first second
    narrow = ear_series([(80, 4)], open_ear=0.18, closed_ear=0.08)   # narrow eyes: EAR 0.18 when open
    flags, count = run_detector(narrow + np.random.default_rng(0).normal(0, 0.005, 200))
    assert count == 1 and flags[81:84].all()


def test_the_blink_baseline_is_numpys_percentile_of_the_last_seconds():
    """The running baseline is read off a sorted list: it must equal np.percentile of the open-eye
    EARs of the last `baseline_s` seconds, whatever their order."""
    from core.config import BlinkConfig
    cfg = BlinkConfig()
    blinks = BlinkDetector(cfg)
    rng = np.random.default_rng(3)
    history = []
    for i in range(400):
        t, ear = i / 30, float(rng.uniform(0.26, 0.34))
        blinks.update(ear, t)
        history.append((t, ear))
        window = [e for s, e in history if t - s <= cfg.baseline_s]
        if len(window) >= cfg.min_samples:
            assert blinks.baseline() == pytest.approx(np.percentile(window, cfg.baseline_percentile), abs=1e-12)
