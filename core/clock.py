"""Breaks in a stream's clock: when a frame's time is not the next moment.

A looped video restarts at 0, a seek jumps, a camera's timestamps may
restart, a stalled camera resumes seconds later. Smoothing and blink
baselines assume time flows forward a frame at a time; across a break
their state describes another moment of the video, so the pipeline starts
its tracks afresh (as for a cut) instead of filtering across it.

A source that knows it broke its clock says so on the frame (`Frame.cut`);
`ClockWatch` catches the rest from the timestamps alone: time going
backwards or standing still, or a jump forward much longer than the
frames' own spacing. "Their own spacing" is the median of recent gaps, so
a window that drops stale frames (gaps of several source frames) is not
mistaken for a seek.
"""
from __future__ import annotations

from collections import deque
from statistics import median

from core.config import ClockConfig


class ClockWatch:
    """Feed it each processed frame's timestamp; it says when the clock broke."""

    def __init__(self, config: ClockConfig = ClockConfig()) -> None:
        self.config = config
        self._last: float | None = None
        self._gaps: deque[float] = deque(maxlen=config.history)

    def reset(self) -> None:
        """A new source: no history to compare with."""
        self._last = None
        self._gaps.clear()

    def is_break(self, timestamp: float, reported: bool = False) -> bool:
        """True if `timestamp` does not follow the previous one: backwards, the same, or a jump
        forward longer than `max_gap_frames` typical gaps and `min_gap_s` seconds; or if the
        source `reported` a break itself."""
        last, self._last = self._last, timestamp
        broke, gap = self._judge(last, timestamp, reported)
        if broke:
            self._gaps.clear()          # the spacing after a break (a seek) is measured afresh
        elif gap is not None:
            self._gaps.append(gap)
        return broke

    def would_break(self, timestamp: float, reported: bool = False) -> bool:
        """What `is_break` would answer for `timestamp`, without taking it in."""
        return self._judge(self._last, timestamp, reported)[0]

    def _judge(self, last: float | None, timestamp: float, reported: bool) -> tuple[bool, float | None]:
        if last is None:
            return reported, None
        gap = timestamp - last
        if gap <= 0 or reported:
            return True, gap
        if self._gaps and gap > self.config.min_gap_s and gap > self.config.max_gap_frames * median(self._gaps):
            return True, gap
        return False, gap
