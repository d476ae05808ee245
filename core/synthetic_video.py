"""A short moving-face clip made from a real photo, for tests, benchmarks and demos.

No face video ships in a pip package we can depend on, and data sets must
not be committed, so tests make one: scikit-image's astronaut photo (Eileen
Collins, NASA, public domain) drifts, turns and zooms smoothly, which is
the motion a tracker and a smoother must follow.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np


def astronaut_rgb() -> np.ndarray:
    from skimage import data
    return data.astronaut()


def moving_face_frames(photo: np.ndarray, frames: int = 120, size: tuple[int, int] = (640, 480),
                       max_angle_deg: float = 15.0) -> list[np.ndarray]:
    w, h = size
    # The astronaut's face is near (255, 120) in the 512x512 photo.
    centre = np.array([255.0, 125.0])
    out = []
    for i in range(frames):
        t = i / max(frames - 1, 1)
        angle = max_angle_deg * math.sin(2 * math.pi * t)
        scale = 1.3 + 0.25 * math.sin(math.pi * t)
        shift = np.array([60 * math.sin(2 * math.pi * t * 0.5), 25 * math.sin(2 * math.pi * t)])
        m = cv2.getRotationMatrix2D(tuple(centre), angle, scale)
        m[:, 2] += np.array([w / 2, h / 2]) + shift - centre
        out.append(cv2.warpAffine(photo, m, (w, h), borderMode=cv2.BORDER_REFLECT))
    return out


def write_video(path: str | Path, frames: list[np.ndarray], fps: float = 30.0, fourcc: str = "mp4v") -> Path:
    """Write RGB frames as a video file."""
    path = Path(path)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def make_face_video(path: str | Path, frames: int = 120, size: tuple[int, int] = (640, 480),
                    fps: float = 30.0) -> Path:
    return write_video(path, moving_face_frames(astronaut_rgb(), frames, size), fps)
