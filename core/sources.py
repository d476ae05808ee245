"""Frame sources: camera, video file, single image, folder of images.

`open_source("0")` is camera 0; a path is a video, an image or a folder of
images (sorted by name). Every source yields RGB `Frame`s (converted once,
here) and fails with a `SourceError` that says what is wrong in words a user
can act on. Nothing is dropped silently: a folder's unreadable files are
listed in `skipped`, and a video that ends before the frame count its header
announces says so in `ended_early()`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from core.errors import MobileFANError, RunFailure
from core.images import ImageReadError, read_rgb
from core.threads import run_in_lowered_thread

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_EXTENSIONS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


class SourceError(MobileFANError):
    """A source that cannot be opened: nothing was read, nothing written."""


class SourceLost(SourceError, RunFailure):
    """A source that stopped delivering while it was being read (a camera unplugged)."""

    exit_code = RunFailure.exit_code


def is_camera_spec(spec: str | int | Path) -> bool:
    """'0', '1', ... (or an int) name a camera; anything else is a path."""
    return str(spec).isdigit()


@dataclass
class Frame:
    image: np.ndarray          # RGB uint8
    index: int                 # frame index in the file (image index in a folder)
    timestamp: float           # seconds: media time for files, monotonic clock for cameras
    name: str                  # the CSV's `source`: file name or camera:N
    captured_at: float = 0.0   # monotonic clock when capture handed it over (for latency)
    cut: bool = False          # the source broke its clock just before this frame (looped, rewound)


class FrameSource:
    """Iterable of frames, and everything capture (core/capture.py) and the headless runner
    ask of a source. `live` sources (cameras) run in real time; others can be read as fast
    as wanted. `still` sources (photos) are also read by index, in any order; sources that
    `can_rewind` (video files) start again for looped playback."""

    live = False
    still = False              # frames are unrelated photos (no tracking across them)
    can_rewind = False         # rewind() works (a video file)
    fps: float = 30.0
    length: int | None = None
    name = ""

    def __init__(self) -> None:
        self.frames_read = 0                   # frames delivered since the last (re)start
        self.skipped: list[str] = []           # files that could not be read (a folder of photos)

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def read(self, index: int) -> Frame | None:
        """Frame `index`, or None if it cannot be read (photos: any order)."""
        raise NotImplementedError(f"{type(self).__name__} is read in order only")

    def rewind(self) -> None:
        """Start again from the first frame; that frame is marked as a cut."""
        raise NotImplementedError(f"{type(self).__name__} cannot start again")

    def ended_early(self) -> str | None:
        """A sentence if the source delivered fewer frames than it announced, else None."""
        return None

    def close(self) -> None:
        pass


class CameraSource(FrameSource):
    live = True

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
        self.name = f"camera:{index}"
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"no camera at index {index}: check that it is connected and not in use "
                              f"by another program")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                raise SourceLost(f"{self.name} stopped delivering frames (disconnected?)")
            yield Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), index, time.monotonic(), self.name)
            index += 1
            self.frames_read = index

    def close(self) -> None:
        self._cap.release()


class VideoSource(FrameSource):
    """A video file's frames, decoded by FFmpeg through OpenCV.

    `decode_nice` > 0: FFmpeg's decoder threads run that much lower in priority than the thread
    that opened the source (they are started when the file is opened, so it is opened from a
    thread lowered for the purpose, core/threads.py): for a source read ahead in a lowered thread
    of its own (core/read_ahead.py), never for one read by the pipeline's thread."""

    can_rewind = True

    def __init__(self, path: Path, decode_nice: int = 0) -> None:
        super().__init__()
        self.path = path
        self.name = path.name
        self.decode_nice = decode_nice
        self._cap = self._open()
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and 1 <= fps <= 1000 else 30.0
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.length = count if count > 0 else None
        self._finished = False
        self._rewound = False

    def _open(self) -> cv2.VideoCapture:
        cap = run_in_lowered_thread(lambda: cv2.VideoCapture(str(self.path)), self.decode_nice)
        first = cap.read()[1] if cap.isOpened() else None
        if first is None:
            cap.release()
            raise SourceError(f"cannot read video {self.path}: the file is damaged or in a format "
                              f"OpenCV cannot decode")
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return cap

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                self._finished = True
                return
            self.frames_read = index + 1
            cut, self._rewound = self._rewound, False
            yield Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), index, index / self.fps, self.name, cut=cut)
            index += 1

    def rewind(self) -> None:
        """Start again from the first frame (looped playback); that frame is marked as a cut."""
        self._cap.release()
        self._cap = self._open()
        self._finished = False
        self._rewound = True

    def ended_early(self) -> str | None:
        if self._finished and self.length is not None and self.frames_read < self.length:
            return (f"{self.name} ended early: read {self.frames_read} of the {self.length} frames its "
                    f"header announces (the file may be truncated or damaged)")
        return None

    def close(self) -> None:
        self._cap.release()


class ImageFilesSource(FrameSource):
    """One image, or every image in a folder, in name order; read in any order by index.

    Unreadable files are skipped and listed in `skipped`, never dropped silently.
    """

    still = True

    def __init__(self, paths: list[Path]) -> None:
        if not paths:
            raise SourceError("no images found (looked for " + ", ".join(sorted(IMAGE_EXTENSIONS)) + ")")
        super().__init__()
        self.paths = paths
        self.length = len(paths)
        self.name = paths[0].parent.name if len(paths) > 1 else paths[0].name

    def read(self, index: int) -> Frame | None:
        """Image `index` as a frame, or None (and noted in `skipped`) if it cannot be read."""
        path = self.paths[index]
        try:
            image = read_rgb(path)
        except ImageReadError:
            if path.name not in self.skipped:
                self.skipped.append(path.name)
            return None
        self.frames_read += 1
        return Frame(image, index, 0.0, path.name)

    def __iter__(self) -> Iterator[Frame]:
        for index in range(len(self.paths)):
            frame = self.read(index)
            if frame is not None:
                yield frame


def folder_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def input_files(spec: str | Path) -> list[Path]:
    """Every file a (non-camera) source spec may read: the file itself, or a folder's photos and videos."""
    path = Path(spec).expanduser()
    if path.is_dir():
        media = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
        return sorted(p for p in path.iterdir() if p.suffix.lower() in media and p.is_file())
    return [path]


def holds_videos(folder: Path) -> bool:
    """Whether a folder holds any video (then it is a batch, not a photo album)."""
    return any(p.suffix.lower() in VIDEO_EXTENSIONS for p in input_files(folder))


def open_source(spec: str | int | Path, decode_nice: int = 0) -> FrameSource:
    """The source `spec` names (see the module's docstring); `decode_nice`: a video's, see `VideoSource`."""
    if is_camera_spec(spec):
        return CameraSource(int(str(spec)))
    path = Path(str(spec)).expanduser()
    if not path.exists():
        raise SourceError(f"no such file or folder: {path}")
    if path.is_dir():
        images = folder_images(path)
        if not images and holds_videos(path):
            raise SourceError(f"{path} holds videos, not photos: open one video, or process them all "
                              f"with --headless --out-dir DIR")
        return ImageFilesSource(images)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        try:
            read_rgb(path)
        except ImageReadError as exc:
            raise SourceError(str(exc)) from None
        return ImageFilesSource([path])
    return VideoSource(path, decode_nice)
