"""Images into RGB uint8: the one image reader, and normalisation of arrays.

RGB is the convention from the source onwards (MediaPipe's, and Qt's
Format_RGB888): a frame is converted once, where it enters, and once more
only where OpenCV writes a file.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.errors import MobileFANError, RunFailure

MIN_FRAME_SIDE = 16


class FrameError(MobileFANError, ValueError):
    """An array that is not an image (wrong shape or type)."""


class ImageReadError(MobileFANError, OSError):
    """A photo that cannot be read or decoded."""


class ImageWriteError(RunFailure, OSError):
    """An overlay or snapshot that could not be written."""


def read_rgb(path: str | Path) -> np.ndarray:
    """Read a photo as RGB uint8, upright.

    IMREAD_COLOR applies the EXIF orientation (a phone's portrait photo is
    stored sideways with a rotate flag), and turns grey, 16-bit and alpha
    images into 8-bit colour; IMREAD_UNCHANGED would do neither.
    """
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageReadError(f"cannot read image {path}: the file is damaged or not an image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def to_rgb(frame: np.ndarray, bgr: bool = False) -> np.ndarray:
    """Grey, grey with a channel axis, RGB(A)/BGR(A), 16-bit or float arrays -> RGB uint8.

    Raises FrameError for things that are not images at all; a tiny frame is
    returned as is (the pipeline finds no face in it rather than failing).
    An RGB uint8 frame is returned without a copy.
    """
    if not isinstance(frame, np.ndarray) or frame.size == 0:
        raise FrameError("frame is empty or not an image array")
    if frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3 and not bgr:
        return frame if frame.flags.c_contiguous else np.ascontiguousarray(frame)
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


def write_image(path: str | Path, rgb: np.ndarray, jpeg_quality: int = 92) -> None:
    """Write an RGB image; a failed write is an error, never a silent no-op."""
    path = Path(path)
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if path.suffix.lower() in (".jpg", ".jpeg") else []
    try:
        ok = cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    except cv2.error as exc:
        raise ImageWriteError(f"cannot write image {path}: {exc}") from exc
    if not ok:
        raise ImageWriteError(f"cannot write image {path} (folder missing, read-only or disk full?)")
