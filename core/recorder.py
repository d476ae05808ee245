"""CSV recording of landmark tracks, written as it goes.

Columns follow OpenFace 2.0 (`frame, face_id, timestamp, confidence,
success, x_0.., y_0..`) so existing analysis scripts read our files, plus
`source`. Every frame's rows are flushed to the OS before the next frame is
processed: if the process is killed, the file holds every frame but at most
the one being written, and the header is there from the start.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Iterable

from core.pipeline import FaceResult


def csv_header(num_points: int) -> list[str]:
    return (["frame", "face_id", "timestamp", "confidence", "success"]
            + [f"x_{i}" for i in range(num_points)] + [f"y_{i}" for i in range(num_points)] + ["source"])


class RecorderError(OSError):
    pass


class CsvRecorder:
    def __init__(self, path: str | Path, num_points: int) -> None:
        self.path = Path(path)
        self.num_points = num_points
        self.rows = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", newline="", encoding="utf-8")
        except OSError as exc:
            raise RecorderError(f"cannot write CSV {self.path}: {exc.strerror or exc}") from exc
        self._writer = csv.writer(self._fh)
        self._writer.writerow(csv_header(num_points))
        self._flush()

    def _flush(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def write_frame(self, frame: int, timestamp: float, faces: Iterable[FaceResult], source: str) -> int:
        """Append one row per face; returns how many rows were written."""
        written = 0
        for face in faces:
            pts = face.points
            if len(pts) != self.num_points:
                raise ValueError(f"face has {len(pts)} points, recorder expects {self.num_points}")
            self._writer.writerow(
                [frame, face.face_id, f"{timestamp:.4f}", f"{face.confidence:.3f}", int(face.success)]
                + [f"{v:.2f}" for v in pts[:, 0]] + [f"{v:.2f}" for v in pts[:, 1]] + [source])
            written += 1
        self._fh.flush()
        self.rows += written
        return written

    def close(self) -> None:
        if not self._fh.closed:
            self._flush()
            self._fh.close()

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def __enter__(self) -> "CsvRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
