import threading
import time

import numpy as np
import pytest

from core.capture import LatestFrameGrabber
from core.sources import Frame, FrameSource, ImageFilesSource, SourceError, VideoSource, open_source


def test_missing_path(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        open_source(tmp_path / "nothing.mp4")


def test_unreadable_video(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01 definitely not a video" * 50)
    with pytest.raises(SourceError, match="cannot read video"):
        open_source(bad)


def test_corrupt_single_image(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    with pytest.raises(SourceError, match="cannot read image"):
        open_source(bad)


def test_empty_folder(tmp_path):
    with pytest.raises(SourceError, match="no images"):
        open_source(tmp_path)


def test_absent_camera_is_a_clear_error():
    with pytest.raises(SourceError, match="no camera at index 9"):
        open_source("9")


def test_folder_yields_images_by_name_and_skips_broken(photo_dir):
    source = open_source(photo_dir)
    assert isinstance(source, ImageFilesSource) and source.still
    names = [f.name for f in source]
    assert names == ["astronaut.jpg", "coffee.ppm", "pair.png"]
    assert source.skipped == ["broken.jpg"]


def test_video_frames_and_timestamps(face_video):
    source = open_source(face_video)
    assert isinstance(source, VideoSource) and source.length == 90
    frames = list(source)
    assert len(frames) == 90
    assert frames[30].timestamp == pytest.approx(1.0)
    assert frames[0].name == "face.mp4"


class FastSource(FrameSource):
    """A 'camera' delivering 500 frames/s."""
    live = True

    def __init__(self):
        self.closed = threading.Event()

    def __iter__(self):
        i = 0
        while not self.closed.is_set():
            time.sleep(0.002)
            yield Frame(np.zeros((4, 4, 3), np.uint8), i, time.monotonic(), "fake")
            i += 1

    def close(self):
        self.closed.set()


def test_slow_consumer_gets_latest_frame_and_drops_the_rest():
    grabber = LatestFrameGrabber(FastSource()).start()
    seen = []
    for _ in range(10):
        frame = grabber.get(1.0)
        seen.append(frame.index)
        time.sleep(0.03)                    # a slow model
    start = time.monotonic()
    grabber.stop(1.0)
    assert time.monotonic() - start < 1.0
    assert all(b > a for a, b in zip(seen, seen[1:]))
    assert seen[-1] - seen[0] > 30          # it skipped ahead rather than queueing
    assert grabber.dropped > 30
    assert grabber.source.closed.is_set()


def test_stills_are_not_dropped(photo_dir):
    grabber = LatestFrameGrabber(open_source(photo_dir)).start()
    got = []
    while not grabber.exhausted:
        frame = grabber.get(1.0)
        if frame is not None:
            got.append(frame.name)
            time.sleep(0.05)
    grabber.stop()
    assert got == ["astronaut.jpg", "coffee.ppm", "pair.png"]
