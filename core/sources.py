"""Frame sources: camera, video file, single image, folder of images.

`open_source("0")` is camera 0; a path is a video, an image or a folder of
images (sorted by name). Every source yields `Frame`s and fails with a
`SourceError` that says what is wrong in words a user can act on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_EXTENSIONS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


class SourceError(RuntimeError):
    pass


@dataclass
class Frame:
    image: np.ndarray          # BGR, as OpenCV reads it
    index: int
    timestamp: float           # seconds: media time for files, monotonic clock for cameras
    name: str                  # the CSV's `source`: file name or camera:N
    captured_at: float = 0.0   # monotonic clock when capture handed it over (for latency)


class FrameSource:
    """Iterable of frames. `live` sources (cameras) run in real time; others can be read as fast as wanted."""

    live = False
    still = False              # frames are unrelated photos (no tracking across them)
    fps: float = 30.0
    length: int | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CameraSource(FrameSource):
    live = True

    def __init__(self, index: int) -> None:
        self.index = index
        self.name = f"camera:{index}"
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"no camera at index {index}: check that it is connected and not in use "
                              f"by another program, or open a video file instead")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                raise SourceError(f"{self.name} stopped delivering frames (disconnected?)")
            yield Frame(image, index, time.monotonic(), self.name)
            index += 1

    def close(self) -> None:
        self._cap.release()


class VideoSource(FrameSource):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._cap = cv2.VideoCapture(str(path))
        ok = self._cap.isOpened()
        first = self._cap.read()[1] if ok else None
        if first is None:
            self._cap.release()
            raise SourceError(f"cannot read video {path}: the file is damaged or in a format OpenCV cannot decode")
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and 1 <= fps <= 1000 else 30.0
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.length = count if count > 0 else None

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                return
            yield Frame(image, index, index / self.fps, self.path.name)
            index += 1

    def close(self) -> None:
        self._cap.release()


class ImageFilesSource(FrameSource):
    """One image, or every image in a folder; unreadable files are skipped with a warning."""

    still = True

    def __init__(self, paths: list[Path]) -> None:
        if not paths:
            raise SourceError("no images found (looked for " + ", ".join(sorted(IMAGE_EXTENSIONS)) + ")")
        self.paths = paths
        self.length = len(paths)
        self.skipped: list[str] = []

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is None:
                self.skipped.append(path.name)
                continue
            yield Frame(image, index, 0.0, path.name)


def open_source(spec: str | int | Path) -> FrameSource:
    text = str(spec)
    if text.isdigit():
        return CameraSource(int(text))
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"no such file or folder: {path}")
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        return ImageFilesSource(images)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        if cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is None:
            raise SourceError(f"cannot read image {path}: the file is damaged or not an image")
        return ImageFilesSource([path])
    return VideoSource(path)
