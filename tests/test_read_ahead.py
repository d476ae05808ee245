"""Reading a file's frames ahead (core/read_ahead.py): every frame, in order, bounded, errors
where they happened, and a reader that is stopped and joined before the source is closed."""
from __future__ import annotations

import csv
import os
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from core.read_ahead import ReadAhead


def test_every_item_arrives_in_order():
    with ReadAhead(iter(range(1000)), depth=3) as frames:
        assert list(frames) == list(range(1000))


def test_the_reader_stays_at_most_depth_items_ahead():
    produced: list[int] = []

    def source():
        for i in range(100):
            produced.append(i)
            yield i

    with ReadAhead(source(), depth=4) as frames:
        it = iter(frames)
        assert next(it) == 0
        time.sleep(0.3)                   # ample time for an unbounded reader to run to the end
        # one consumed, four queued, one more read and waiting for room
        assert len(produced) <= 1 + 4 + 1


def test_an_error_while_reading_reaches_the_consumer_after_the_frames_before_it():
    def source():
        yield from range(5)
        raise OSError("truncated file")

    got = []
    with ReadAhead(source(), depth=2) as frames, pytest.raises(OSError, match="truncated"):
        for item in frames:
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_stopping_early_joins_the_reader_and_finishes_the_source_first():
    """After close() no thread is still inside the source, so the caller may release it."""
    finished = threading.Event()

    def source():
        try:
            for i in range(10_000):
                yield i
        finally:
            finished.set()

    frames = ReadAhead(source(), depth=2, name="test-reader")
    for item in frames:
        if item == 3:
            break
    frames.close()
    assert finished.is_set()
    assert not any(t.name == "test-reader" and t.is_alive() for t in threading.enumerate())


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        ReadAhead(iter(()), depth=0)


def test_a_headless_run_writes_the_same_rows_with_and_without_read_ahead(tmp_path, tiny_weights, face_video):
    """Read-ahead (and the decoder's lower priority) changes when frames are decoded, never which
    frames or what is written."""
    from core.config import PipelineConfig
    from core.headless import open_run, run_headless
    from core.read_ahead import decoder_nice
    from core.sources import open_source
    tables = []
    for depth, nice in ((0, 0), (4, 0), (4, 10)):
        out = tmp_path / f"depth{depth}_nice{nice}.csv"
        pipeline, recorder = open_run(PipelineConfig(weights=tiny_weights, runtime="onnxruntime"), out)
        source = open_source(face_video, decoder_nice(depth, nice))
        summary = run_headless(source, pipeline, recorder, progress=False, read_ahead=depth, decode_nice=nice)
        pipeline.close()
        tables.append(list(csv.reader(out.open())))
        assert source.length and summary.frames == source.length
    assert len(tables[0]) > 30 and tables[0] == tables[1] == tables[2]


# ---- the decoder's lower priority (Linux: a thread's nice value is its own) ------------------------
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def _threads() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


@linux_only
def test_the_reader_thread_runs_at_the_nice_value_asked_above_the_callers():
    base = _nice(threading.get_native_id())
    seen: list[int] = []

    def source():
        seen.append(_nice(threading.get_native_id()))
        yield from range(3)

    with ReadAhead(source(), depth=2, nice=3) as frames:
        assert list(frames) == [0, 1, 2]
    assert seen == [min(19, base + 3)]
    assert _nice(threading.get_native_id()) == base          # the consumer's own priority is untouched


@linux_only
def test_threads_started_in_a_lowered_thread_inherit_its_priority_and_the_caller_keeps_its_own():
    from core.threads import run_in_lowered_thread
    me = threading.get_native_id()
    base = _nice(me)
    seen: dict[str, int] = {}

    def opener() -> str:
        seen["opener"] = _nice(threading.get_native_id())
        child = threading.Thread(target=lambda: seen.__setitem__("child", _nice(threading.get_native_id())))
        child.start()
        child.join()
        return "opened"

    assert run_in_lowered_thread(opener, 5) == "opened"
    assert seen == {"opener": min(19, base + 5), "child": min(19, base + 5)}
    assert _nice(me) == base

    def fails() -> None:
        raise OSError("no such codec")
    with pytest.raises(OSError, match="no such codec"):       # the error reaches the caller
        run_in_lowered_thread(fails, 5)
    assert run_in_lowered_thread(lambda: _nice(threading.get_native_id()), 0) == base    # 0: in place


@linux_only
def test_a_video_opened_with_decode_nice_decodes_in_lowered_threads(face_video):
    """FFmpeg starts its decoder threads when the file is opened: those must be the lowered ones."""
    from core.sources import VideoSource
    base = _nice(threading.get_native_id())
    before = _threads()
    source = VideoSource(face_video, decode_nice=4)
    try:
        started = _threads() - before
        if (os.cpu_count() or 1) > 1:                            # FFmpeg threads its decoder on 2+ cores
            assert started
        assert {tid: _nice(tid) for tid in started} == {tid: min(19, base + 4) for tid in started}
        assert _nice(threading.get_native_id()) == base
        assert sum(1 for _ in source) == source.length
    finally:
        source.close()


class _CountingSource:
    """A fake source of `n` tiny frames that records how many it has handed out."""

    live = False

    def __init__(self, n: int, still: bool) -> None:
        import numpy as np
        from core.sources import Frame
        self.still, self.length, self.produced = still, n, 0
        self.skipped: list[str] = []
        self._frames = [Frame(np.zeros((4, 4, 3), np.uint8), i, i / 30, f"f{i}.png") for i in range(n)]

    def __iter__(self):
        for frame in self._frames:
            self.produced += 1
            yield frame

    def ended_early(self):
        return None

    def close(self):
        pass


class _SlowPipeline:
    """Stands in for LandmarkPipeline: slow, finds nothing, notes how far ahead the source was.
    Its frames run one after the other (its `process`), not overlapped (core/frame_overlap.py)."""

    config = SimpleNamespace(overlap_frames=False)

    def __init__(self, source: _CountingSource) -> None:
        self.source, self.ahead = source, []

    def prepare_for_source(self, live: bool) -> None:
        pass

    def process(self, image, timestamp, still=False, cut=False):
        from core.results import FrameResult
        time.sleep(0.02)
        self.ahead.append(self.source.produced - len(self.ahead) - 1)
        return FrameResult(faces=[])


@pytest.mark.parametrize("still, most_ahead", [(True, 2), (False, 5)])   # depth 1 or 4, + 1 in hand
def test_photos_are_read_one_ahead_and_video_frames_up_to_the_depth(still, most_ahead):
    """Decoded photos can be 300 MB each: at most one queued and one in the reader's hands."""
    from core.headless import run_headless
    source = _CountingSource(12, still)
    pipeline = _SlowPipeline(source)
    summary = run_headless(source, pipeline, progress=False, read_ahead=4)
    assert summary.frames == 12
    assert max(pipeline.ahead) == most_ahead        # reached (the pipeline is slow), never passed
