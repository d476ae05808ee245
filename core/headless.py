"""Batch processing without a window: every frame, in order, to CSV (and overlays).

Unlike the live view, nothing is dropped: a slow machine takes longer, it
does not skip frames.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
from tqdm import tqdm

from core.frames import to_rgb
from core.overlay import draw_faces
from core.pipeline import LandmarkPipeline
from core.recorder import CsvRecorder
from core.sources import FrameSource

VIDEO_OVERLAY_EVERY = 10     # a video's overlays: one frame in ten is plenty to check by eye


@dataclass
class HeadlessSummary:
    frames: int = 0
    faces: int = 0
    rows: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def run_headless(source: FrameSource, pipeline: LandmarkPipeline, csv_path: Path | None = None,
                 max_frames: int | None = None, overlay_dir: Path | None = None,
                 progress: bool = True) -> HeadlessSummary:
    summary = HeadlessSummary()
    recorder = CsvRecorder(csv_path, pipeline.config.points) if csv_path else None
    if overlay_dir:
        overlay_dir.mkdir(parents=True, exist_ok=True)
    total = source.length if max_frames is None else min(max_frames, source.length or max_frames)
    bar = tqdm(total=total, unit="frame", disable=not progress, desc="landmarks")
    start = time.perf_counter()
    try:
        for frame in source:
            if max_frames is not None and summary.frames >= max_frames:
                break
            result = pipeline.process(frame.image, frame.timestamp, still=source.still)
            summary.frames += 1
            summary.faces += len(result.faces)
            if recorder:
                summary.rows += recorder.write_frame(frame.index, frame.timestamp, result.faces, frame.name)
            if overlay_dir and (source.still or frame.index % VIDEO_OVERLAY_EVERY == 0):
                image = cv2.cvtColor(to_rgb(frame.image), cv2.COLOR_RGB2BGR)   # grey/BGRA/16-bit -> BGR
                name = Path(frame.name).stem if source.still else f"{Path(frame.name).stem}_{frame.index:06d}"
                cv2.imwrite(str(overlay_dir / f"{name}.jpg"),
                            draw_faces(image, result.faces, pipeline.layout))
            bar.update(1)
            bar.set_postfix(faces=len(result.faces))
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - start
        if recorder:
            recorder.close()
        source.close()
    summary.skipped = list(getattr(source, "skipped", []))
    return summary
