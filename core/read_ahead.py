"""Decoding the next frames while the current one is processed (headless runs of files).

A headless run processes every frame, one after another: decoding frame t+1 (FFmpeg, or a
JPEG/PNG decoder) waited until frame t's landmarks were written, although both the decoders and
ONNX Runtime release the GIL. `ReadAhead` runs a source's iteration in a thread of its own,
a few frames ahead, so that decoding overlaps the model.

Nothing is dropped and the order is kept: the queue is bounded and the reader waits when it is
full (a slow model slows the reader; memory stays at `depth` frames queued, plus the one
the reader holds while it waits). An error raised while
reading reaches the consumer at the frame where it happened. Closing (also when the consumer
stops early) stops the reader and waits for it, so the source can be closed safely after it:
a `cv2.VideoCapture` must not be released while another thread is inside `read()`.

A folder of photos is read at most one photo ahead: decoded photos can be hundreds of MB each.
Live sources (a camera) are not read ahead: their own driver keeps the newest frames, and
extra buffering here would only add latency.

The reader runs at a lower priority than the pipeline (`DECODE_NICE`; a video's FFmpeg threads
too, core/sources.py): on a 2-core machine the frame's two threads and the decoder's are more
runnable threads than cores, and at equal priority the decoder took cores from the critical
path while the queue was already full. Lowered, it runs in the gaps those threads leave. The
price: a CPU-bound program started from the same session takes the cores from the decoder too
(README, Performance, round 20; `--decode-nice 0` turns it off).
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from core.threads import lower_this_thread

T = TypeVar("T")

READ_AHEAD_FRAMES = 4           # frames decoded ahead: enough to hide a slow decode, little memory
DECODE_NICE = 6                 # the reader's nice value above the pipeline's (Linux; 0: the same): why, above
STILL_READ_AHEAD = 1            # photos ahead at most: a 12000x8000 photo is 288 MB decoded
_END = object()                 # the source is exhausted
_POLL_S = 0.1                   # how often a waiting reader checks whether it should stop


def decoder_nice(read_ahead: int, nice: int = DECODE_NICE) -> int:
    """The nice increment to open a source's decoder with: `nice` when a reader thread of its own
    decodes it (`read_ahead` > 0), else 0: the pipeline's thread would wait on a lowered decoder."""
    return nice if read_ahead > 0 else 0


class _Failure:
    """An exception raised by the source, carried through the queue to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class ReadAhead(Generic[T]):
    """Iterate `items` in a background thread, at most `depth` items ahead of the consumer, its
    nice value raised by `nice` (the items' own work, e.g. a video's decoding, runs in that thread).

    Use as a context manager (or call `close()`): leaving it stops and joins the reader."""

    def __init__(self, items: Iterable[T], depth: int = 4, name: str = "read-ahead", nice: int = 0) -> None:
        if depth < 1:
            raise ValueError(f"read-ahead depth must be >= 1, not {depth}")
        self._items = items
        self._nice = nice
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    # ---- reader thread ---------------------------------------------------------------------
    def _put(self, item: object) -> bool:
        """Put `item`, waiting while the queue is full; False when told to stop meanwhile."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        lower_this_thread(self._nice)
        iterator = iter(self._items)
        try:
            for item in iterator:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(_Failure(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:        # a generator stopped early finishes here, in its own thread
                close()

    # ---- consumer --------------------------------------------------------------------------
    def __iter__(self) -> Iterator[T]:
        if not self._started:
            self._started = True
            self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]

    def close(self, timeout: float = 10.0) -> None:
        """Stop the reader and wait for it (it may be inside one frame's decode)."""
        self._stop.set()
        while True:                      # free a reader blocked on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._started:
            self._thread.join(timeout)

    def __enter__(self) -> "ReadAhead[T]":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
