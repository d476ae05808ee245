"""A video file's frames through the pipeline two at a time: frame N+1's face network while frame N is finished.

A frame's work is two halves (core/pipeline.py). `begin` frames the faces
from the previous frame's landmarks and runs the face network; `finish`
refines the eyelids, smooths, prunes lost tracks and measures head pose and
eyes, and then the caller writes the CSV row. The face network releases
Python's lock while it computes, so on a machine with two or more cores the
next frame's network can run in a worker thread while this frame is
finished: end to end the frame costs about the larger half instead of both.

The answers are those of `LandmarkPipeline.process` frame after frame,
exactly: the pipeline says when the next frame may start ahead
(`may_start_ahead`) and how a frame begun ahead is put back in order after
the previous `finish` (`after_finish`); this module only schedules.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Iterator, Protocol

import numpy as np

from core.pipeline import BegunFrame, LandmarkPipeline
from core.results import FrameResult


class VideoFrame(Protocol):
    image: np.ndarray
    timestamp: float
    cut: bool


def process_overlapped(pipeline: LandmarkPipeline, frames: Iterable[VideoFrame]) \
        -> Iterator[tuple[VideoFrame, FrameResult]]:
    """(frame, result) for every frame of a video, in order, each one frame after it was read.

    Stopping early (closing the iterator) leaves at most one frame begun and never finished."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-network") as worker:
        pending: tuple[VideoFrame, BegunFrame] | None = None
        for frame in frames:
            if pending is None:
                pending = frame, pipeline.begin(frame.image, frame.timestamp, cut=frame.cut)
                continue
            ahead = None
            if pipeline.may_start_ahead(frame.timestamp, frame.cut):
                started = pipeline.start(frame.image, frame.timestamp, cut=frame.cut)
                ahead = worker.submit(pipeline.run_network, started)
            result = pipeline.finish(pending[1])
            yield pending[0], result
            if ahead is None:
                begun = pipeline.begin(frame.image, frame.timestamp, cut=frame.cut)
            else:
                begun = pipeline.after_finish(ahead.result(), frame.image, frame.timestamp, frame.cut)
            pending = frame, begun
        if pending is not None:
            yield pending[0], pipeline.finish(pending[1])
