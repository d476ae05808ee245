"""Normalise whatever a camera, a file or a caller hands us into RGB uint8."""
from __future__ import annotations

import cv2
import numpy as np

MIN_FRAME_SIDE = 16


class FrameError(ValueError):
    pass


def to_rgb(frame: np.ndarray, bgr: bool = True, out: np.ndarray | None = None) -> np.ndarray:
    """Grey, grey with a channel axis, BGR, BGRA, 16-bit or float frames -> RGB uint8.

    Raises FrameError for things that are not images at all; a tiny frame
    is returned as is (the pipeline finds no face in it rather than failing).
    For the common BGR frame, a caller-owned `out` of the same shape is
    filled in place, so a video loop does not allocate a frame per frame.
    """
    if out is not None and bgr and isinstance(frame, np.ndarray) and frame.dtype == np.uint8 \
            and frame.ndim == 3 and frame.shape[2] == 3 and out.shape == frame.shape:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB, dst=out)
    if not isinstance(frame, np.ndarray) or frame.size == 0:
        raise FrameError("frame is empty or not an image array")
    if frame.dtype != np.uint8:
        if frame.dtype == np.uint16:
            frame = (frame >> 8).astype(np.uint8)
        elif np.issubdtype(frame.dtype, np.floating):
            scale = 255.0 if float(np.nanmax(frame)) <= 1.0 else 1.0
            frame = np.clip(np.nan_to_num(frame) * scale, 0, 255).astype(np.uint8)
        else:
            frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise FrameError(f"unsupported frame shape {frame.shape}: expected HxW, HxWx3 or HxWx4")
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB if bgr else cv2.COLOR_RGBA2RGB)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if bgr else np.ascontiguousarray(frame)


def is_too_small(rgb: np.ndarray) -> bool:
    return min(rgb.shape[:2]) < MIN_FRAME_SIDE
