"""The corpus manifest: one JSON object per labelled face, one face per line.

JSON lines, because the corpus builder appends as it goes (an interrupted
build keeps what it labelled) and any tool can read it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.errors import MobileFANError


@dataclass
class FaceRecord:
    image: str                      # path relative to the manifest's folder
    box: list[float]                # x0, y0, x1, y1 of the face (from the labelling detector)
    points: list[list[float]]       # N x 2 landmarks, frame pixels
    source: str                     # package the image came from
    license: str
    person: str                     # identity / source id: the unit of the train/val split
    split: str = "train"            # "train" or "val"
    detector_box: list[float] | None = None   # BlazeFace box, for crop calibration
    extra: dict = field(default_factory=dict)

    def points_array(self) -> np.ndarray:
        return np.asarray(self.points, dtype=np.float32)


class ManifestError(MobileFANError, ValueError):
    pass


def read_manifest(path: str | Path) -> list[FaceRecord]:
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    records = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
                record = FaceRecord(**data)
            except (json.JSONDecodeError, TypeError) as exc:
                raise ManifestError(f"{path}:{lineno}: bad manifest line ({exc})") from exc
            pts = record.points_array()
            if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] not in (68, 98):
                raise ManifestError(f"{path}:{lineno}: points must be 68x2 or 98x2, got {pts.shape}")
            records.append(record)
    return records


def append_record(path: str | Path, record: FaceRecord) -> None:
    with Path(path).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(record)) + "\n")


def write_manifest(path: str | Path, records: list[FaceRecord]) -> None:
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(asdict(record)) + "\n")
    tmp.replace(path)
