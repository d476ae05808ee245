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
import functools
import io
import math
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


def row_format(num_points: int) -> str:
    """One face's numeric cells as a single %-format, each cell's precision as the schema gives
    it: the ~150 cells of a row formatted in one C call (a list of f-strings through csv.writer
    cost ~60 us a face, on the thread every frame waits on). Numbers never need csv quoting;
    the `source` cell, which may, is added by `source_cell`."""
    cells = (["%d", "%d", "%.4f", "%.3f", "%d"] + ["%.1f"] * 3 + ["%.4f"] * 3
             + ["%.2f"] * (2 * num_points) + ["%.3f", "%.3f", "%d", "%.3f"])
    return ",".join(cells) + ","


@functools.lru_cache(maxsize=16)            # a run writes one source name on every row
def source_cell(source: str) -> str:
    """`source` as csv.writer writes a cell (quoted only when it holds a comma, a quote or a line break)."""
    text = io.StringIO()
    # Written as a row's last cell, with the rows' own terminator: both decide the quoting (a row
    # of one empty cell would be written as "").
    csv.writer(text, lineterminator="\n").writerow(["", source])
    return text.getvalue()[1:-1]


def _row_values(frame: int, timestamp: float, face: FaceResult) -> tuple:
    p = face.pose
    pose = (math.nan,) * 6 if p is None else (p.tx, p.ty, p.tz, p.rx, p.ry, p.rz)
    return ((frame, face.face_id, timestamp, face.confidence, int(face.success)) + pose
            + tuple(face.points.T.ravel().tolist())
            + (face.ear_left, face.ear_right, int(face.blink), face.mouth_open))


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
        self._row_format = row_format(num_points)
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
            if len(face.points) != self.num_points:
                raise ValueError(f"face has {len(face.points)} points, recorder expects {self.num_points}")
            rows.append(self._row_format % _row_values(frame, timestamp, face))
        if rows:
            end = source_cell(source) + "\n"
            self._write("".join(row + end for row in rows).encode("utf-8"))
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
