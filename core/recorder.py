"""CSV recording of landmark tracks, written as it goes, never destroying a file.

Columns follow OpenFace 2.0 (`frame, face_id, timestamp, confidence,
success, pose_Tx.. pose_Rz, x_0.., y_0..`, same names, same units) so
existing analysis scripts read our files, then our own `ear_left,
ear_right, blink, mouth_open` and `source` (README, CSV schema).

Why it writes through a raw file descriptor, one `os.write` per frame:
- nothing is buffered in Python, so a killed process leaves every frame
  but the one being written, and closing never re-sends a half-written
  buffer (which is how a full disk used to leave a torn last row);
- when a write fails (disk full, quota, I/O error), the file is cut back
  to the last whole frame and a `RecorderError` says how many rows it kept.

An existing file is never replaced unless `overwrite=True` (it is opened
with O_EXCL otherwise), and the file is locked while it is written, so a
second program recording to the same path is refused instead of
interleaving its rows.
"""
from __future__ import annotations

import csv
import io
import os
import stat
import sys
from pathlib import Path
from typing import Iterable

from core.errors import MobileFANError, RunFailure
from core.results import FaceResult


POSE_COLUMNS = ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
MEASURE_COLUMNS = ["ear_left", "ear_right", "blink", "mouth_open"]


def csv_header(num_points: int) -> list[str]:
    return (["frame", "face_id", "timestamp", "confidence", "success"] + POSE_COLUMNS
            + [f"x_{i}" for i in range(num_points)] + [f"y_{i}" for i in range(num_points)]
            + MEASURE_COLUMNS + ["source"])


def _pose_cells(face: FaceResult) -> list[str]:
    p = face.pose
    if p is None:
        return ["nan"] * 6
    return [f"{p.tx:.1f}", f"{p.ty:.1f}", f"{p.tz:.1f}", f"{p.rx:.4f}", f"{p.ry:.4f}", f"{p.rz:.4f}"]


class RecorderError(MobileFANError, OSError):
    """A CSV that may not or cannot be opened (it exists, it is locked, its folder is read-only)."""


class RecorderWriteError(RecorderError, RunFailure):
    """A write that failed (disk full, quota, I/O error); the file keeps its whole rows."""

    exit_code = RunFailure.exit_code


def _lock(fd: int) -> bool:
    """Exclusive, non-blocking lock on the whole file; False if another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class CsvRecorder:
    def __init__(self, path: str | Path, num_points: int, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.num_points = num_points
        self.rows = 0
        self._fd: int | None = None
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
        if not overwrite:
            flags |= os.O_EXCL
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, flags, 0o644)
        except FileExistsError:
            raise RecorderError(f"{self.path} already exists; not overwriting it") from None
        except OSError as exc:
            raise RecorderError(f"cannot write CSV {self.path}: {exc.strerror or exc}") from exc
        if not _lock(fd):
            os.close(fd)
            raise RecorderError(f"{self.path} is being written by another program (it is locked); "
                                f"choose another file")
        self._fd = fd
        self._committed = 0
        try:
            if overwrite and stat.S_ISREG(os.fstat(fd).st_mode):
                os.ftruncate(fd, 0)      # only now, holding the lock: another writer's file is never cut
            self._write(self._format([csv_header(num_points)]))
        except RecorderError:
            self.close()
            raise
        try:
            os.fsync(fd)
        except OSError:
            pass                         # not every file (a pipe, /dev/full) can be synced

    @staticmethod
    def _format(rows: list[list]) -> bytes:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        return text.getvalue().encode("utf-8")

    def _write(self, data: bytes) -> None:
        """Write all of `data` or, on failure, none of it (cut back to the last whole frame)."""
        if self._fd is None:
            raise RecorderError(f"CSV {self.path} is closed")
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._committed)
            except OSError:
                pass
            fd, self._fd = self._fd, None
            os.close(fd)
            raise RecorderWriteError(f"writing {self.path} failed ({exc.strerror or exc}); "
                                f"it keeps the {self.rows} whole rows written before") from exc
        self._committed += len(data)

    def write_frame(self, frame: int, timestamp: float, faces: Iterable[FaceResult], source: str) -> int:
        """Append one row per face, all at once; returns how many rows were written."""
        rows = []
        for face in faces:
            pts = face.points
            if len(pts) != self.num_points:
                raise ValueError(f"face has {len(pts)} points, recorder expects {self.num_points}")
            rows.append([frame, face.face_id, f"{timestamp:.4f}", f"{face.confidence:.3f}", int(face.success)]
                        + _pose_cells(face)
                        + [f"{v:.2f}" for v in pts[:, 0].tolist()] + [f"{v:.2f}" for v in pts[:, 1].tolist()]
                        + [f"{face.ear_left:.3f}", f"{face.ear_right:.3f}", int(face.blink), f"{face.mouth_open:.3f}",
                           source])
        if rows:
            self._write(self._format(rows))
            self.rows += len(rows)
        return len(rows)

    def close(self) -> None:
        """Sync and close (releasing the lock); safe to call twice."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        except OSError:
            pass
        os.close(fd)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def __enter__(self) -> "CsvRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
