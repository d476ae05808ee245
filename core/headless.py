"""Runs without a window: every frame, in order, to CSV (and overlays).

Unlike the live view, nothing is dropped: a slow machine takes longer, it
does not skip frames. Nothing is reduced silently either: photos with no
face, frames where more faces were found than `max_faces` allows, unreadable
files and a video that ends early are each reported through `notify`.

`open_run` is the one place a run's pipeline and recorder are made (the
command line and every batch task use it); `run_headless` runs one opened
source, `run_inputs` several files in turn into the same CSV.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from core.config import PipelineConfig
from core.frame_overlap import process_overlapped
from core.images import write_image
from core.outputs import VIDEO_OVERLAY_EVERY, overlay_name
from core.overlay import draw_faces
from core.pipeline import LandmarkPipeline
from core.read_ahead import DECODE_NICE, READ_AHEAD_FRAMES, STILL_READ_AHEAD, ReadAhead, decoder_nice
from core.recorder import CsvRecorder
from core.sources import FrameSource, SourceError, open_source


@dataclass
class HeadlessSummary:
    frames: int = 0
    faces: int = 0
    rows: int = 0
    seconds: float = 0.0
    overlays: int = 0
    skipped: list[str] = field(default_factory=list)         # unreadable files
    no_face: list[str] = field(default_factory=list)         # photos without a face
    limit_hit: int = 0                                       # frames with more faces than max_faces
    blinks: int = 0                                          # blinks begun, all faces (the pipeline's count)
    ended_early: str | None = None                           # a video shorter than announced
    stopped: bool = False                                    # `should_stop` ended the run

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def add(self, other: "HeadlessSummary") -> None:
        """Fold in one more file's summary (several files into one CSV)."""
        self.frames += other.frames
        self.faces += other.faces
        self.rows += other.rows
        self.seconds += other.seconds
        self.overlays += other.overlays
        self.skipped += other.skipped
        self.no_face += other.no_face
        self.limit_hit += other.limit_hit
        self.blinks += other.blinks
        self.stopped = self.stopped or other.stopped


def open_run(config: PipelineConfig, csv_path: Path | None, overwrite: bool = False,
             pipeline: LandmarkPipeline | None = None) -> tuple[LandmarkPipeline, CsvRecorder | None]:
    """The run's pipeline (made from `config` unless given), then its recorder: in this order, so
    a run whose model fails to load has not touched an existing CSV."""
    own = pipeline is None
    pipeline = LandmarkPipeline(config) if pipeline is None else pipeline
    try:
        recorder = CsvRecorder(csv_path, config.points, overwrite=overwrite) if csv_path else None
    except BaseException:
        if own:
            pipeline.close()
        raise
    return pipeline, recorder


def open_headless_source(spec: str | int | Path, read_ahead: int = READ_AHEAD_FRAMES,
                         decode_nice: int = DECODE_NICE) -> FrameSource:
    """`spec` opened for `run_headless` with the same `read_ahead` and `decode_nice`: a video that a
    reader thread decodes has FFmpeg's threads lowered with it (core/read_ahead.decoder_nice)."""
    return open_source(spec, decoder_nice(read_ahead, decode_nice))


def run_inputs(specs: list[str], pipeline: LandmarkPipeline, recorder: CsvRecorder | None = None,
               notify: Callable[[str], None] | None = None, progress: bool = True,
               should_stop: Callable[[], bool] | None = None,
               read_ahead: int = READ_AHEAD_FRAMES, decode_nice: int = DECODE_NICE) -> HeadlessSummary:
    """Each file in turn into the same CSV; a file that cannot be opened is said and skipped.
    The recorder is closed at the end."""
    say = notify or (lambda text: None)
    total = HeadlessSummary()
    try:
        for spec in specs:
            if should_stop is not None and should_stop():
                total.stopped = True
                break
            try:
                source = open_headless_source(spec, read_ahead, decode_nice)
            except SourceError as exc:
                say(f"{Path(spec).name}: skipped: {exc}")
                continue
            total.add(run_headless(source, pipeline, recorder, notify=say, progress=progress,
                                   should_stop=should_stop, close_recorder=False, read_ahead=read_ahead,
                                   decode_nice=decode_nice))
    finally:
        if recorder:
            recorder.close()
    return total


def run_headless(source: FrameSource, pipeline: LandmarkPipeline, recorder: CsvRecorder | None = None,
                 max_frames: int | None = None, overlay_dir: Path | None = None, progress: bool = True,
                 notify: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None,
                 close_recorder: bool = True, read_ahead: int = READ_AHEAD_FRAMES,
                 decode_nice: int = DECODE_NICE) -> HeadlessSummary:
    """Process `source` to the end (or `max_frames`). The recorder is closed at the end (unless
    `close_recorder` is False: more files follow into it), also when an error (a write
    failure, say) stops the run: its rows stay whole. A file's next `read_ahead` frames are
    decoded in a thread of their own meanwhile (core/read_ahead.py; 0: none, as for a camera), its
    nice value `decode_nice` above the caller's (open it with `open_headless_source` for a video's
    FFmpeg threads to follow), and
    a file's next frame runs its face network while this one is finished (core/frame_overlap.py;
    `PipelineConfig.overlap_frames`), with the answers of one frame after the other."""
    summary = HeadlessSummary()
    say = notify or (lambda text: None)
    pipeline.prepare_for_source(live=source.live)
    if overlay_dir:
        overlay_dir.mkdir(parents=True, exist_ok=True)
    total = source.length if max_frames is None else min(max_frames, source.length or max_frames)
    bar = tqdm(total=total, unit="frame", disable=not progress, desc="landmarks")
    start = time.perf_counter()
    depth = min(read_ahead, STILL_READ_AHEAD) if source.still else read_ahead      # photos can be 300 MB each
    frames = ReadAhead(source, depth, nice=decode_nice) if depth > 0 and not source.live else None

    def to_process():
        """The frames to run, up to `max_frames`, until `should_stop` says stop."""
        for n, frame in enumerate(frames if frames is not None else source):
            if max_frames is not None and n >= max_frames:
                break
            if should_stop is not None and should_stop():
                summary.stopped = True
                break
            yield frame

    if not source.still and not source.live and pipeline.config.overlap_frames:
        results = process_overlapped(pipeline, to_process())    # a frame's network while the last is finished
    else:
        results = ((f, pipeline.process(f.image, f.timestamp, still=source.still, cut=f.cut)) for f in to_process())
    try:
        for frame, result in results:
            summary.frames += 1
            summary.faces += len(result.faces)
            summary.blinks = result.blinks
            if source.still and not result.faces:
                summary.no_face.append(frame.name)
                say(f"{frame.name}: no face found")
            if result.face_limit_hit:
                summary.limit_hit += 1
                if source.still or summary.limit_hit == 1:
                    say(f"{frame.name}: {result.faces_found} faces found, landmarks for the first "
                        f"{pipeline.config.max_faces} only (raise --max-faces)")
            if recorder:
                summary.rows += recorder.write_frame(frame.index, frame.timestamp, result.faces, frame.name)
            if overlay_dir and (source.still or frame.index % VIDEO_OVERLAY_EVERY == 0):
                image = draw_faces(frame.image, result.faces, pipeline.layout, camera=result.camera)
                write_image(overlay_dir / overlay_name(frame.name, frame.index, source.still), image)
                summary.overlays += 1
            bar.update(1)
            bar.set_postfix(faces=len(result.faces), refresh=False)   # redrawn at tqdm's own pace, not per frame
    finally:
        results.close()                  # the worker thread (if any) is joined before the reader and source
        bar.close()
        summary.seconds = time.perf_counter() - start
        if frames is not None:
            frames.close()               # the reader is joined before the source is closed under it
        if recorder and (close_recorder or sys.exc_info()[0] is not None):
            recorder.close()
        source.close()
    summary.skipped = list(source.skipped)
    summary.ended_early = source.ended_early()
    if summary.ended_early:
        say(summary.ended_early)
    return summary
