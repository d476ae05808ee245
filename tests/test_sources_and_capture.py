import threading
import time

import numpy as np
import pytest

from core.capture import LatestFrameGrabber
from core.images import read_rgb
from core.sources import Frame, FrameSource, ImageFilesSource, SourceError, VideoSource, open_source
from core.synthetic_video import astronaut_rgb, moving_face_frames, write_video


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


def test_video_frames_and_timestamps(face_video, astronaut):
    source = open_source(face_video)
    assert isinstance(source, VideoSource) and source.length == 90
    frames = list(source)
    assert len(frames) == 90
    assert frames[30].timestamp == pytest.approx(1.0)
    assert frames[0].name == "face.mp4"
    assert source.ended_early() is None
    # RGB from the source on: the decoded frame matches the RGB frame that was written,
    # and not its channel-swapped (BGR) twin.
    written = moving_face_frames(astronaut, 90, (480, 360))[0].astype(int)
    decoded = frames[0].image.astype(int)
    assert np.abs(decoded - written).mean() < 0.5 * np.abs(decoded - written[:, :, ::-1]).mean()


def test_a_truncated_video_says_it_ended_early(tmp_path):
    path = write_video(tmp_path / "clip.avi", moving_face_frames(astronaut_rgb(), 60, (160, 120)), 30, "MJPG")
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    source = open_source(cut)
    frames = list(source)
    assert 0 < len(frames) < 60
    assert source.ended_early() == (f"cut.avi ended early: read {len(frames)} of the 60 frames its header "
                                    f"announces (the file may be truncated or damaged)")


def test_exif_orientation_is_applied(tmp_path):
    """A phone photo stored sideways with an EXIF 'rotate 90' tag is read upright."""
    from PIL import Image
    upright = np.zeros((40, 80, 3), np.uint8)
    upright[:, :40] = (255, 0, 0)                       # left half red
    stored = np.ascontiguousarray(np.rot90(upright, 1))   # as the camera stored it: 80 high, 40 wide
    exif = Image.Exif()
    exif[0x0112] = 6                                    # "rotate 90 CW to display"
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    image = read_rgb(tmp_path / "phone.jpg")
    assert image.shape[:2] == (40, 80)
    assert image[20, 10, 0] > 200 and image[20, 70, 0] < 60
    frame = next(iter(open_source(tmp_path / "phone.jpg")))
    assert frame.image.shape[:2] == (40, 80)


class FastSource(FrameSource):
    """A 'camera' delivering 500 frames/s."""
    live = True

    def __init__(self):
        super().__init__()
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


def drain(grabber: LatestFrameGrabber, timeout: float, pause: float) -> list:
    """Every frame the grabber hands out until its source is exhausted (a consumer `pause` s slow)."""
    got = []
    while not grabber.exhausted:
        frame = grabber.get(timeout)
        if frame is not None:
            got.append(frame)
            time.sleep(pause)
    grabber.stop()
    return got


def test_stills_are_not_dropped(photo_dir):
    grabber = LatestFrameGrabber(open_source(photo_dir), still_interval=0.0).start()
    got = [f.name for f in drain(grabber, 1.0, 0.05)]
    assert got == ["astronaut.jpg", "coffee.ppm", "pair.png"]


def take(grabber, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = grabber.get(0.05)
        if frame is not None:
            return frame
    return None


def test_a_folder_moves_only_on_request_and_goes_back(photo_dir):
    grabber = LatestFrameGrabber(open_source(photo_dir), still_interval=None).start()
    try:
        assert take(grabber).name == "astronaut.jpg"
        assert take(grabber, 0.4) is None                 # no request: it stays on the photo
        grabber.step(1)
        assert take(grabber).name == "coffee.ppm"
        grabber.step(1)
        assert take(grabber).name == "pair.png"
        grabber.step(1)                                   # past the end: reported, the last one stays
        deadline = time.monotonic() + 2
        while not grabber.exhausted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert grabber.exhausted
        grabber.step(-1)
        assert take(grabber).name == "coffee.ppm"        # going back works after the end
        grabber.step(-1)
        assert take(grabber).name == "astronaut.jpg"
        grabber.step(-1)
        assert take(grabber, 0.3) is None                 # already at the first photo
    finally:
        grabber.stop()


def test_a_folder_advances_on_its_interval_and_loops(photo_dir):
    grabber = LatestFrameGrabber(open_source(photo_dir), still_interval=0.05, loop=True).start()
    try:
        names = [take(grabber).name for _ in range(5)]
        assert names == ["astronaut.jpg", "coffee.ppm", "pair.png", "astronaut.jpg", "coffee.ppm"]
    finally:
        grabber.stop()


def test_pause_step_and_resume_a_video(face_video):
    grabber = LatestFrameGrabber(open_source(face_video), realtime=True).start()
    try:
        first = take(grabber)
        grabber.pause()
        time.sleep(0.1)
        grabber.get(0.0)                                  # drop what was on its way
        assert take(grabber, 0.3) is None                 # paused: nothing new
        grabber.step()
        stepped = take(grabber)
        assert stepped is not None and stepped.index > first.index
        grabber.step()
        assert take(grabber).index == stepped.index + 1   # one frame per step, none skipped
        grabber.resume()
        later = take(grabber)
        assert later.index > stepped.index + 1 or later.index == stepped.index + 2
    finally:
        grabber.stop()


def test_a_looped_video_starts_again_and_counts_its_wraps(tmp_path):
    clip = write_video(tmp_path / "short.mp4", moving_face_frames(astronaut_rgb(), 10, (160, 120)), 30)
    grabber = LatestFrameGrabber(open_source(clip), realtime=False, loop=True).start()
    try:
        indices = [take(grabber).index for _ in range(25)]
        assert indices == list(range(10)) * 2 + list(range(5))
        assert grabber.wraps == 2
    finally:
        grabber.stop()


def test_every_frame_mode_delivers_every_frame(face_video):
    grabber = LatestFrameGrabber(open_source(face_video), realtime=False).start()
    indices = [f.index for f in drain(grabber, 0.5, 0.001)]
    assert indices == list(range(90)) and grabber.dropped == 0
