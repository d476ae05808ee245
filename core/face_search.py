"""The periodic search for new faces, run in a thread of its own a few frames ahead of its answer.

While faces are tracked, the detector only looks for faces that came in
(core/tracker.py): nothing on the frame it runs on waits for it. Run inline,
it stopped the frame's chain (crop -> network -> next crop) for the whole
detector call, ~6 ms for the full-range model against ~2.5 ms for a whole
tracked frame: without it a headless run of the small model went 1.11x as
fast (README, Performance, round 21). So the search is started on frame k in
a worker thread and its detections are added to the tracks on frame k + lag,
while frames k .. k + lag - 1 are tracked meanwhile.

Its answer is used on a fixed frame, never "when it is ready": a run gives
the same tracks whatever the machine's speed, and the window, the serial
and the overlapped headless runs (core/frame_overlap.py) agree frame by frame.
A new face is framed from its box of `lag` frames before; its own landmarks
reframe it from the next frame on.

The detector is not thread-safe (MediaPipe graphs): one search at most is in
flight, and `settle` waits for it before anyone else uses the detector.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Generic, TypeVar

import numpy as np

from core.detector import Detection

Detect = Callable[[np.ndarray], list[Detection]]
Seen = TypeVar("Seen")


class FaceSearch(Generic[Seen]):
    """At most one detector call in flight, started on one frame and collected on a later one,
    with what the caller saw on that frame (`seen`: the pipeline's tracks and their boxes then),
    which is dropped with it."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future[list[Detection]] | None = None
        self._seen: Seen | None = None

    @property
    def in_flight(self) -> bool:
        """A search was started and its answer not yet collected (or dropped)."""
        return self._future is not None

    def start(self, detect: Detect, rgb: np.ndarray, seen: Seen) -> None:
        """`detect` on a copy of `rgb` in the search thread (the caller may reuse its frame)."""
        if self._future is not None:
            raise RuntimeError("a face search is already in flight; collect or drop it first")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-search")
        self._future, self._seen = self._pool.submit(detect, rgb.copy()), seen

    def collect(self) -> tuple[list[Detection], Seen]:
        """The started search's detections (waiting for them if need be) and what was seen when it
        started; its error, if it failed."""
        if self._future is None:
            raise RuntimeError("no face search in flight")
        future, seen, self._future, self._seen = self._future, self._seen, None, None
        return future.result(), seen

    def settle(self) -> None:
        """Drop any search in flight, once it has ended: the detector is free for another caller
        (a new source, a break in the clock, or a frame with no tracks that must detect now).
        Its answer, or its error, belonged to frames that no longer matter."""
        if self._future is not None:
            future, self._future, self._seen = self._future, None, None
            future.exception()

    def close(self) -> None:
        self.settle()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
