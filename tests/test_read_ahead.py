"""Reading a file's frames ahead (core/read_ahead.py): every frame, in order, bounded, errors
where they happened, and a reader that is stopped and joined before the source is closed."""
from __future__ import annotations

import csv
import threading
import time

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
    """Read-ahead changes when frames are decoded, never which frames or what is written."""
    from core.config import PipelineConfig
    from core.headless import open_run, run_headless
    from core.sources import open_source
    tables = []
    for depth in (0, 4):
        out = tmp_path / f"depth{depth}.csv"
        pipeline, recorder = open_run(PipelineConfig(weights=tiny_weights, runtime="onnxruntime"), out)
        source = open_source(face_video)
        summary = run_headless(source, pipeline, recorder, progress=False, read_ahead=depth)
        pipeline.close()
        tables.append(list(csv.reader(out.open())))
        assert source.length and summary.frames == source.length
    assert len(tables[0]) > 30 and tables[0] == tables[1]
