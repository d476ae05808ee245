import math

import cv2
import numpy as np

from core.geometry import Crop, crop_from_box, crop_from_landmarks, crop_to_frame, frame_to_crop, warp_crop
from core.landmarks import LAYOUT_68


def test_crop_and_uncrop_invert():
    rng = np.random.default_rng(0)
    for _ in range(50):
        crop = Crop(*rng.uniform(50, 500, 2), rng.uniform(20, 400), rng.uniform(-math.pi, math.pi))
        pts = rng.uniform(0, 640, (68, 2))
        back = crop_to_frame(crop, frame_to_crop(crop, pts, 128), 128)
        assert np.allclose(back, pts, atol=1e-6)


def test_warp_puts_a_frame_point_where_the_transform_says():
    frame = np.zeros((400, 500, 3), np.uint8)
    cv2.circle(frame, (310, 180), 3, (255, 255, 255), -1)
    crop = Crop(300, 200, 120, math.radians(25))
    patch = warp_crop(frame, crop, 128)
    expected = frame_to_crop(crop, np.array([[310.0, 180.0]]), 128)[0]
    ys, xs = np.nonzero(patch[:, :, 0] > 100)
    assert abs(xs.mean() - expected[0]) < 1.0 and abs(ys.mean() - expected[1]) < 1.0


def test_tilted_face_crops_upright():
    rng = np.random.default_rng(1)
    upright = rng.uniform(-50, 50, (68, 2))
    upright[36] = (-30, 0)      # eye corners level in the face's own frame
    upright[45] = (30, 0)
    tilt = math.radians(20)
    rot = np.array([[math.cos(tilt), -math.sin(tilt)], [math.sin(tilt), math.cos(tilt)]])
    tilted = upright @ rot.T + (200, 150)
    crop = crop_from_landmarks(tilted, LAYOUT_68, 1.35)
    assert abs(crop.angle - tilt) < 1e-6
    in_crop = frame_to_crop(crop, tilted, 128)
    assert abs(in_crop[36, 1] - in_crop[45, 1]) < 1e-6           # eyes level in the crop
    assert in_crop.min() >= 0 and in_crop.max() <= 127            # whole face inside


def test_detection_crop_rotates_with_the_eyes_and_scales_with_the_framing():
    crop = crop_from_box((100, 100, 200, 200), 0.9, 0.0, 1.35, eyes=((120, 130), (180, 150)))
    assert abs(crop.angle - math.atan2(20, 60)) < 1e-9
    assert abs(crop.side - 1.35 * 0.9 * 100) < 1e-9
    shifted = crop_from_box((100, 100, 200, 200), 0.9, 0.1, 1.35)
    assert (shifted.cx, shifted.cy) == (150, 160)          # 0.1 box heights down the (upright) face


def test_a_tracks_crop_moves_part_of_the_way_and_the_short_way_round():
    from core.tracker import blend_crops
    old, new = Crop(100, 100, 80, math.radians(170)), Crop(110, 90, 100, math.radians(-170))
    half = blend_crops(old, new, 0.5)
    assert (half.cx, half.cy, half.side) == (105, 95, 90)
    assert abs(math.degrees(half.angle) - 180) < 1e-9          # through 180 degrees, not through 0
    assert blend_crops(old, new, 1.0) == new
