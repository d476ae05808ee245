import cv2
import numpy as np
import pytest

from conftest import ASTRONAUT_FACE_CENTRE, two_faces
from core.detector import BlazeFaceDetector, Detection, non_max_suppression


@pytest.fixture(scope="module")
def detector():
    det = BlazeFaceDetector("full", 0.5)
    yield det
    det.close()


def contains(box, point):
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def test_finds_the_face_in_a_real_photo(detector, astronaut):
    faces = detector.detect(astronaut)
    assert len(faces) == 1
    assert contains(faces[0].box, ASTRONAUT_FACE_CENTRE)
    (lx, ly), (rx, ry) = faces[0].eyes
    assert lx < rx                                   # image-left eye first
    assert faces[0].score > 0.7


def test_short_range_model_also_works_offline(astronaut):
    det = BlazeFaceDetector("short", 0.5)
    try:
        assert len(det.detect(astronaut)) == 1
    finally:
        det.close()


def test_multiple_faces(detector, astronaut):
    faces = detector.detect_tiled(two_faces(astronaut))
    assert len(faces) == 2
    left, right = sorted(faces, key=lambda f: f.box[0])
    assert contains(left.box, ASTRONAUT_FACE_CENTRE)
    assert contains(right.box, (1023 - ASTRONAUT_FACE_CENTRE[0], ASTRONAUT_FACE_CENTRE[1]))


def test_no_face_in_a_photo_of_coffee(detector):
    from skimage import data
    assert detector.detect_tiled(data.coffee()) == []


def test_tiling_finds_a_small_face_in_a_large_image(detector, astronaut):
    canvas = np.full((1600, 2400, 3), 90, np.uint8)
    small = cv2.resize(astronaut, (256, 256))
    canvas[1200:1456, 1900:2156] = small
    faces = detector.detect_tiled(canvas)
    cx, cy = ASTRONAUT_FACE_CENTRE
    assert any(contains(f.box, (1900 + cx / 2, 1200 + cy / 2)) for f in faces)


def test_crop_for_a_detection_frames_the_face_like_the_landmarks(detector, astronaut):
    """The detector's own calibration puts the crop where a landmark crop would be:
    centred near the face centre, rotated with the eyes, about 1.2 box sides wide."""
    face = detector.detect(astronaut)[0]
    crop = detector.crop_for(face, 1.35)
    w = face.box[2] - face.box[0]
    assert 1.0 * w < crop.side < 1.5 * w
    assert contains(face.box, (crop.cx, crop.cy))
    wider = detector.crop_for(face, 1.7)                # a model trained with a looser framing
    assert abs(wider.side / crop.side - 1.7 / 1.35) < 1e-9


def test_nms_keeps_one_box_per_face():
    a = Detection((0, 0, 100, 100), 0.9, ((30, 40), (70, 40)))
    b = Detection((5, 5, 105, 105), 0.8, ((30, 40), (70, 40)))
    c = Detection((300, 0, 400, 100), 0.7, ((330, 40), (370, 40)))
    assert non_max_suppression([b, a, c], 10) == [a, c]
