"""Background capture with latest-frame-wins hand-off.

The capture thread reads the source as fast as it delivers (a camera's own
rate; a video file paced to its frame rate) and keeps only the newest frame.
A consumer slower than the source gets the freshest frame each time and the
ones in between are dropped and counted: latency stays at one frame instead
of growing with a queue.
"""
from __future__ import annotations

import threading
import time
from collections import deque

from core.sources import Frame, FrameSource, SourceError


class LatestFrameGrabber:
    def __init__(self, source: FrameSource, realtime: bool = True) -> None:
        self.source = source
        self.realtime = realtime or source.live
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._stop = threading.Event()
        self.finished = False
        self.error: str | None = None
        self.captured = 0
        self.dropped = 0
        self._times: deque[float] = deque(maxlen=60)
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    def start(self) -> "LatestFrameGrabber":
        self._thread.start()
        return self

    def _run(self) -> None:
        start = time.monotonic()
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                if self.realtime and not self.source.live and not self.source.still:
                    # Play a file at its own speed, like a camera would deliver it.
                    delay = start + frame.index / self.source.fps - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        break
                frame.captured_at = time.monotonic()
                with self._cond:
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = frame
                    self.captured += 1
                    self._times.append(time.monotonic())
                    self._cond.notify_all()
                if self.source.still:
                    # Photos are not a stream: wait until this one has been taken.
                    with self._cond:
                        self._cond.wait_for(lambda: self._latest is None or self._stop.is_set())
        except SourceError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a capture thread must report, never die silently
            self.error = f"capture failed: {exc}"
        finally:
            if self._stop.is_set():
                self.source.close()
            with self._cond:
                self.finished = True
                self._cond.notify_all()

    def get(self, timeout: float = 0.5) -> Frame | None:
        """The newest frame not yet taken, waiting up to `timeout`; None if none came."""
        with self._cond:
            self._cond.wait_for(lambda: self._latest is not None or self.finished, timeout)
            frame, self._latest = self._latest, None
            self._cond.notify_all()
            return frame

    @property
    def fps(self) -> float:
        times = list(self._times)
        if len(times) < 2 or times[-1] == times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    @property
    def exhausted(self) -> bool:
        with self._cond:
            return self.finished and self._latest is None

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.source.close()
        # else: the thread is blocked inside a read; it closes the source when that returns.
