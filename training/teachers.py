"""The label teachers: models whose answers become the training corpus's labels.

- `LabelTeacher`: dlib's HOG face detector + its 68-point shape predictor
  (`shape_predictor_68_face_landmarks.dat` from PyPI face-recognition-models,
  trained on iBUG 300-W: research use). It labels the corpus (with a mirror
  check: the answer on the image and on its mirror image, flipped back, must
  agree) and is the reference the bench scripts compare the app with (`plain`:
  dlib as its users run it).

Kept apart from the corpus builder (its pip/npm/apt fetchers), so that the
bench scripts import a teacher, not a downloader. Needs requirements-train.txt.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from core.errors import MobileFANError
from core.landmarks import LAYOUT_68, flip_points, interocular


class TeacherUnavailable(MobileFANError):
    """A teacher's package or model file is not installed."""


def label_teacher_path() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise TeacherUnavailable("face-recognition-models is not installed: pip install -r requirements-train.txt")
    return Path(spec.origin).parent / "models" / "shape_predictor_68_face_landmarks.dat"


class LabelTeacher:
    """dlib HOG detector + 68-point predictor, with a mirror-consistency check."""

    def __init__(self) -> None:
        import dlib
        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(label_teacher_path()))

    def _predict(self, gray: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        rect = self.dlib.rectangle(*[int(round(v)) for v in box])
        shape = self.predictor(gray, rect)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)

    def plain(self, gray: np.ndarray, upsample: int = 1) -> list[np.ndarray]:
        """dlib as its users run it, the reference of the bench scripts: the HOG detector, then
        the predictor on each face found; no mirror check, no averaging."""
        return [self._predict(gray, (r.left(), r.top(), r.right(), r.bottom())) for r in self.detector(gray, upsample)]

    def label(self, rgb: np.ndarray) -> list[tuple[list[float], np.ndarray, float]]:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        h, w = gray.shape
        # Upsampling finds smaller faces (dlib's HOG window is 80 px); big photos need none.
        upsample = 2 if max(h, w) <= 1000 else (1 if max(h, w) <= 2000 else 0)
        faces = []
        for rect in self.detector(gray, upsample):
            box = (rect.left(), rect.top(), rect.right(), rect.bottom())
            pts = self._predict(gray, box)
            mirrored = self._predict(np.ascontiguousarray(gray[:, ::-1]),
                                     (w - 1 - box[2], box[1], w - 1 - box[0], box[3]))
            back = flip_points(mirrored, w, LAYOUT_68)
            iod = interocular(pts, LAYOUT_68)
            disagreement = float(np.linalg.norm(pts - back, axis=1).mean() / max(iod, 1e-6))
            # The average of the two answers is a slightly better label than either.
            faces.append(([float(v) for v in box], (pts + back) / 2, disagreement))
        return faces
