"""Background capture with latest-frame-wins hand-off, and playback control.

The capture thread reads the source as fast as it delivers (a camera's own
rate; a video file paced to its frame rate) and keeps only the newest frame.
A consumer slower than the source gets the freshest frame each time and the
ones in between are dropped and counted: latency stays at one frame instead
of growing with a queue.

Playback control, for the window: pause / resume, step one frame while
paused, loop a video file, and for a folder of photos previous / next (a
folder advances only on request, or every `still_interval` seconds).
"""
from __future__ import annotations

import threading
import time
from collections import deque

from core.sources import Frame, FrameSource, SourceError


class LatestFrameGrabber:
    def __init__(self, source: FrameSource, realtime: bool = True, loop: bool = False,
                 still_interval: float | None = 0.0) -> None:
        """`realtime`: play files at their own frame rate (else as fast as they are taken,
        every frame). `still_interval`: seconds between photos of a folder; None waits for
        `step()`; 0 moves on as soon as a photo has been taken."""
        self.source = source
        self.realtime = realtime or source.live
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._stop = threading.Event()
        self._paused = False
        self._steps = 0                    # frames (or photos, signed) requested by step()
        self._loop = loop
        self._still_interval = still_interval
        self._at_end = False
        self.finished = False
        self.error: str | None = None
        self.captured = 0
        self.dropped = 0
        self.wraps = 0                     # times a looped video restarted
        self._times: deque[float] = deque(maxlen=60)
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    def start(self) -> "LatestFrameGrabber":
        self._thread.start()
        return self

    # ---- control (any thread) ------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step(self, delta: int = 1) -> None:
        """Photos: move `delta` images (negative: back). Video and camera: pause, then
        deliver the next frame (going back is not supported for streams)."""
        with self._cond:
            if self.source.still:
                self._steps += delta
            elif delta > 0:
                self._paused = True
                self._steps += delta
            self._cond.notify_all()

    def set_loop(self, loop: bool) -> None:
        with self._cond:
            self._loop = loop
            self._cond.notify_all()

    def set_still_interval(self, seconds: float | None) -> None:
        with self._cond:
            self._still_interval = seconds
            self._cond.notify_all()

    # ---- capture thread ------------------------------------------------------------------
    def _publish(self, frame: Frame) -> None:
        frame.captured_at = time.monotonic()
        with self._cond:
            if self._latest is not None:
                self.dropped += 1
                frame.cut = frame.cut or self._latest.cut     # a dropped frame's break still happened
            self._latest = frame
            self.captured += 1
            self._times.append(frame.captured_at)
            self._cond.notify_all()

    def _run(self) -> None:
        try:
            if self.source.still:
                self._run_stills(self.source)
            else:
                self._run_stream()
        except SourceError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a capture thread must report, never die silently
            self.error = f"capture failed: {exc}"
        finally:
            if self._stop.is_set():
                self.source.close()
            with self._cond:
                self.finished = True
                self._at_end = True
                self._cond.notify_all()

    def _run_stream(self) -> None:
        source = self.source
        frames = iter(source)
        clock: tuple[float, int] | None = None    # (start time, first index) of the paced run
        while not self._stop.is_set():
            with self._cond:
                if self._paused and not source.live:
                    self._cond.wait_for(lambda: not self._paused or self._steps > 0 or self._stop.is_set())
                    if self._stop.is_set():
                        return
                stepping = self._paused and self._steps > 0
                if stepping:
                    self._steps -= 1
                if self._paused:
                    clock = None                      # pacing starts afresh after a pause
            frame = next(frames, None)
            if frame is None:
                if self._loop and source.can_rewind and source.frames_read > 0:
                    source.rewind()
                    frames, clock = iter(source), None
                    self.wraps += 1
                    continue
                return
            if source.live and self._paused and not stepping:
                continue                              # a paused camera keeps reading, shows nothing new
            if self.realtime and not source.live and not stepping:
                if clock is None:
                    clock = (time.monotonic(), frame.index)
                delay = clock[0] + (frame.index - clock[1]) / source.fps - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
            self._publish(frame)
            if not self.realtime:
                # Every frame, as fast as it is taken: wait for the consumer.
                with self._cond:
                    self._cond.wait_for(lambda: self._latest is None or self._stop.is_set())

    def _next_move(self, shown_at: float) -> int | None:
        """With the lock held: wait for the next photo move (+1 / -1), or None on stop.
        The interval moves on only while not paused and not past the end."""
        while True:
            if self._stop.is_set():
                return None
            if self._steps:
                move = 1 if self._steps > 0 else -1
                self._steps -= move
                return move
            interval = self._still_interval
            if self._at_end:
                if self._loop:
                    return 1
                self._cond.wait()
            elif interval is not None and not self._paused:
                remaining = shown_at + interval - time.monotonic()
                if remaining <= 0:
                    return 1
                self._cond.wait(remaining)
            else:
                self._cond.wait()

    def _run_stills(self, source: FrameSource) -> None:
        count = source.length or 0
        index, direction, need_read, shown_at = 0, 1, True, 0.0
        while True:
            move = None
            if need_read:
                frame = source.read(index)
                if frame is None:
                    move = direction                  # unreadable: carry on the same way
                else:
                    self._publish(frame)
                    shown_at = time.monotonic()
                    with self._cond:
                        # Photos are not a stream: wait until this one has been taken.
                        self._cond.wait_for(lambda: self._latest is None or self._stop.is_set())
            with self._cond:
                if move is None:
                    move = self._next_move(shown_at)
                    if move is None:
                        return
                direction = move
                target = index + move
                if target >= count and self._loop:
                    target = 0
                if target >= count:
                    # Past the last photo: report the end and stay there (the user may go back).
                    self._at_end, need_read = True, False
                    self._cond.notify_all()
                    if self._still_interval == 0.0:
                        return                        # auto-advance mode: the folder is done
                    continue
                if target < 0:
                    need_read = False                 # already at the first photo
                    continue
                index, need_read, self._at_end = target, True, False

    # ---- consumer ------------------------------------------------------------------------
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
        """The source has nothing more to deliver (a photo folder: its end was passed)."""
        with self._cond:
            return self._at_end and self._latest is None

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.source.close()
        # else: the thread is blocked inside a read; it closes the source when that returns.
