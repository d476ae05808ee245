"""training/corpus/morph.py: two people morphed into a third, labelled exactly."""
import cv2
import numpy as np
import pytest

from core.landmarks import LAYOUT_68
from training.corpus.manifest import FaceRecord
from training.corpus.morph import MorphFace, candidates, may_pair, morph, morph_share

SIZE = 400


def face_shape(width: float, jaw_drop: float, eye_height: float) -> np.ndarray:
    """68 points of a cartoon face centred in a 400 px patch: a jaw arc, brows, nose, eyes, mouth."""
    cx, cy = SIZE / 2, SIZE / 2
    jaw = [(cx + width * np.cos(a), cy + jaw_drop * np.sin(a)) for a in np.linspace(np.pi * 0.95, np.pi * 0.05, 17)]
    brows = [(cx - width * 0.8 + i * width * 0.15, cy - eye_height - 20) for i in range(5)] + \
            [(cx + width * 0.2 + i * width * 0.15, cy - eye_height - 20) for i in range(5)]
    nose = [(cx, cy - eye_height + i * 12) for i in range(4)] + [(cx - 16 + 8 * i, cy + 10) for i in range(5)]
    eye = lambda x0: [(x0 + dx, cy - eye_height + dy) for dx, dy in ((0, 0), (10, -6), (20, -6), (30, 0), (20, 6), (10, 6))]
    eyes = eye(cx - width * 0.6) + eye(cx + width * 0.6 - 30)
    mouth = [(cx - 30 + 5 * i, cy + 40 + (0 if i in (0, 12) else 4 * np.sin(np.pi * i / 12))) for i in range(12)] + \
            [(cx - 20 + 5 * i, cy + 42) for i in range(8)]
    points = np.array(jaw + brows + nose + eyes + mouth, dtype=np.float64)
    assert points.shape == (68, 2)
    return points


def dotted(points: np.ndarray, forehead: np.ndarray, rng) -> MorphFace:
    """A dark noisy patch with a bright dot on each label: where the labels go, the dots go."""
    patch = rng.integers(30, 60, size=(SIZE, SIZE, 3)).astype(np.uint8)
    for x, y in points:
        cv2.circle(patch, (int(round(x)), int(round(y))), 2, (255, 255, 255), -1)
    return MorphFace(record=None, patch=patch, points=points, forehead=forehead)


def forehead_for(points: np.ndarray) -> np.ndarray:
    top = points[17:27, 1].min() - 60
    return np.array([(x, top) for x in np.linspace(points[0, 0] + 10, points[16, 0] - 10, 11)])


def test_the_morph_puts_both_faces_features_on_its_labels():
    rng = np.random.default_rng(0)
    pa, pb = face_shape(110, 120, 40), face_shape(90, 100, 30)
    a, b = dotted(pa, forehead_for(pa), rng), dotted(pb, forehead_for(pb), rng)
    image, labels = morph(a, b, 0.5)
    assert image.shape == a.patch.shape and labels.shape == (68, 2)
    # The labels lie between the two shapes (b first brought into a's frame by a similarity).
    assert not np.allclose(labels, pa, atol=2) and not np.allclose(labels, pb, atol=2)
    # Both faces' dots land on the labels: bright there, not half bright as a plain dissolve would be.
    at_labels = [image[int(round(y)), int(round(x))].mean() for x, y in labels]
    assert np.median(at_labels) > 200 and np.mean(np.array(at_labels) > 150) > 0.9
    # And a plain 50 / 50 dissolve of the unwarped faces would not: the test can tell.
    plain = (a.patch.astype(np.float32) + cv2.warpAffine(
        b.patch, cv2.estimateAffinePartial2D(pb.astype(np.float32), pa.astype(np.float32))[0],
        (SIZE, SIZE)).astype(np.float32)) / 2
    assert np.median([plain[int(round(y)), int(round(x))].mean() for x, y in labels]) < 180


def test_t_zero_is_the_first_face_and_its_labels():
    rng = np.random.default_rng(1)
    pa, pb = face_shape(110, 120, 40), face_shape(90, 100, 30)
    a, b = dotted(pa, forehead_for(pa), rng), dotted(pb, forehead_for(pb), rng)
    image, labels = morph(a, b, 0.0)
    np.testing.assert_allclose(labels, pa, atol=1e-4)
    assert np.abs(image.astype(int) - a.patch.astype(int)).mean() < 2.0


def record(person, image="p.jpg", yaw=0.0, split="train", source="face-api", eyes=60.0, shift=0.0):
    points = face_shape(eyes, 60, 20) + shift
    return FaceRecord(image=image, box=[0, 0, 1, 1], points=points.tolist(), source=source, license="MIT",
                      person=person, split=split, extra={"yaw_mesh": yaw})


def test_only_training_stills_of_two_different_people_are_paired():
    pool = candidates([record("a"), record("b", yaw=40.0), record("c", split="val"),
                       record("d", image="frames/d/1.jpg"), record("e", source="synth:x"), record("f", eyes=5.0),
                       record("g", image="g.jpg", yaw=10.0)], min_eyes=25.0)
    assert [r.person for r in pool] == ["a", "g"]                 # turned, validation, frames, synth, tiny: out
    a, g = pool
    assert may_pair(a, g) and not may_pair(a, record("a", image="other.jpg"))   # one person twice: no
    assert may_pair(record("group", image="g1.jpg"), record("group", image="g1.jpg", shift=100.0))  # group photo
    assert not may_pair(a, record("h", yaw=18.0))                 # 18 degrees apart: a ghost, not a face


def test_the_morphs_share_of_the_draws_follows_the_trainers_person_weights():
    records = [record("franck") for _ in range(9)] + [record(f"morph:{k}") for k in range(2) for _ in range(4)]
    # franck: sqrt(9) = 3; two morph groups of 4: 2 + 2 -> 4 / 7.
    assert morph_share(records) == pytest.approx(4 / 7)
