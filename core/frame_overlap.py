"""A video file's frames through the pipeline two at a time: frame N+1's face network while frame N is finished.

A frame's work is two halves (core/pipeline.py). `begin` frames the faces
from the previous frame's landmarks and runs the face network; `finish`
refines the eyelids, smooths, prunes lost tracks and measures head pose and
eyes, and then the caller writes the CSV row. The face network releases
Python's lock while it computes, so on a machine with two or more cores this
frame's `finish` can run in a worker thread while the next frame's network
runs here: end to end the frame costs about the larger half instead of both.

The networks stay in the caller's thread and `finish` goes to the worker, not
the other way round: each frame's crop comes from the last frame's network, so
crop -> network -> decode -> next crop is the chain every frame waits on, and
kept in one thread it never waits for a hand-over (a wake-up, the lock) from
the other. The default model's network, the longer half, gained most from it
(README, Performance, round 20).

The answers are those of `LandmarkPipeline.process` frame after frame,
exactly: the pipeline says when the next frame may start ahead
(`may_start_ahead`) and how a frame begun ahead is put back in order after
the previous `finish` (`after_finish`); this module only schedules.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Iterator, Protocol

import numpy as np

from core.pipeline import LandmarkPipeline
from core.results import FrameResult


class VideoFrame(Protocol):
    image: np.ndarray
    timestamp: float
    cut: bool


def process_overlapped(pipeline: LandmarkPipeline, frames: Iterable[VideoFrame]) \
        -> Iterator[tuple[VideoFrame, FrameResult]]:
    """(frame, result) for every frame of a video, in order, each one frame after it was read.

    Stopping early (closing the iterator) leaves at most one frame begun and never finished."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="frame-finish") as worker:
        it = iter(frames)
        frame = next(it, None)
        if frame is None:
            return
        begun = pipeline.begin(frame.image, frame.timestamp, cut=frame.cut)
        for nxt in it:
            if pipeline.may_start_ahead(nxt.timestamp, nxt.cut):
                started = pipeline.start(nxt.image, nxt.timestamp, cut=nxt.cut)   # before this frame's finish
                finishing = worker.submit(pipeline.finish, begun)
                ahead = pipeline.run_network(started)
                yield frame, finishing.result()
                begun = pipeline.after_finish(ahead, nxt.image, nxt.timestamp, nxt.cut)
            else:
                yield frame, pipeline.finish(begun)
                begun = pipeline.begin(nxt.image, nxt.timestamp, cut=nxt.cut)
            frame = nxt
        yield frame, pipeline.finish(begun)
