"""Eyelid labels from the refined mesh, mapped onto dlib's layout (training/eyelid_labels.py)."""
import numpy as np
import pytest

from core.face_measures import eye_aspect_ratio
from training.eyelid_labels import EYES, MESH_EYE_68, fit_map

RNG = np.random.default_rng(0)


LID_UV = {1: (0.33, -0.2), 2: (0.66, -0.2), 4: (0.66, 0.18), 5: (0.33, 0.18)}   # position in the eye -> (u, v)


def open_eye_face(openness: float = 1.0, shift: float = 0.0):
    """dlib's 68 points (eyes only matter) and a 478-point 'mesh' that sees the same eyes a bit
    differently: its lid points sit further out along the lid and lower above the corner line."""
    dlib = np.zeros((68, 2))
    mesh = np.zeros((478, 3))
    for eye, x0 in ((EYES[0], 100.0 + shift), (EYES[1], 160.0 + shift)):
        corner_a, corner_b = np.array([x0, 100.0]), np.array([x0 + 30.0, 102.0])
        dlib[eye[0]], dlib[eye[3]] = corner_a, corner_b
        for j in (0, 3):
            mesh[MESH_EYE_68[eye[j]], :2] = dlib[eye[j]] + RNG.normal(0, 0.2, 2)
        for j, (u, v) in LID_UV.items():
            dlib[eye[j]] = corner_a + 30 * np.array([u, v * openness]) + RNG.normal(0, 0.2, 2)
            mesh[MESH_EYE_68[eye[j]], :2] = corner_a + 30 * np.array([0.5 + (u - 0.5) * 1.2, v * openness / 1.1])
    return dlib, mesh


def test_the_map_keeps_dlibs_corners_and_closes_with_the_mesh():
    pairs = [open_eye_face(1.0 + RNG.uniform(-0.1, 0.1), RNG.uniform(-5, 5)) for _ in range(40)]
    eyelid_map = fit_map(pairs)
    assert eyelid_map.faces >= 30
    # On an open eye the map gives dlib's lids back (it learnt the mesh's spacing and height).
    dlib, mesh = open_eye_face()
    new = eyelid_map.apply(dlib, mesh)
    assert np.abs(new[36:48] - dlib[36:48]).max() < 1.5
    # The mesh closes an eye dlib keeps open: the new lids close, the corners are dlib's own.
    _, closed_mesh = open_eye_face(openness=0.02)
    new = eyelid_map.apply(dlib, closed_mesh)
    for eye in EYES:
        assert np.array_equal(new[eye[0]], dlib[eye[0]].astype(np.float32))
        assert np.array_equal(new[eye[3]], dlib[eye[3]].astype(np.float32))
        assert eye_aspect_ratio(dlib, eye) > 0.3 and eye_aspect_ratio(new, eye) < 0.05
    assert np.array_equal(new[:36], dlib[:36].astype(np.float32))      # nothing but the eyes moves


def test_too_few_agreeing_faces_is_refused():
    pairs = [open_eye_face(0.3) for _ in range(40)]               # half-closed: not for fitting
    with pytest.raises(ValueError, match="open-eyed"):
        fit_map(pairs)
