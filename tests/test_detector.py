import cv2
import numpy as np
import pytest

from conftest import ASTRONAUT_FACE_CENTRE, two_faces
from core.detector import BlazeFaceDetector, Detection, non_max_suppression


@pytest.fixture(scope="module")
def detector():
    det = BlazeFaceDetector("full", 0.5, max_faces=8)
    yield det
    det.close()


def contains(box, point):
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def test_finds_the_face_in_a_real_photo(detector, astronaut):
    faces = detector.detect(cv2.cvtColor(astronaut, cv2.COLOR_BGR2RGB))
    assert len(faces) == 1
    assert contains(faces[0].box, ASTRONAUT_FACE_CENTRE)
    (lx, ly), (rx, ry) = faces[0].eyes
    assert lx < rx                                   # image-left eye first
    assert faces[0].score > 0.7


def test_short_range_model_also_works_offline(astronaut):
    det = BlazeFaceDetector("short", 0.5)
    try:
        assert len(det.detect(cv2.cvtColor(astronaut, cv2.COLOR_BGR2RGB))) == 1
    finally:
        det.close()


def test_multiple_faces(detector, astronaut):
    faces = detector.detect_tiled(cv2.cvtColor(two_faces(astronaut), cv2.COLOR_BGR2RGB))
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
    faces = detector.detect_tiled(cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB))
    cx, cy = ASTRONAUT_FACE_CENTRE
    assert any(contains(f.box, (1900 + cx / 2, 1200 + cy / 2)) for f in faces)


def test_nms_keeps_one_box_per_face():
    a = Detection((0, 0, 100, 100), 0.9, ((30, 40), (70, 40)))
    b = Detection((5, 5, 105, 105), 0.8, ((30, 40), (70, 40)))
    c = Detection((300, 0, 400, 100), 0.7, ((330, 40), (370, 40)))
    assert non_max_suppression([b, a, c], 10) == [a, c]
