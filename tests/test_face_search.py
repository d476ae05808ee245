"""The periodic search for new faces, started a few frames ahead of the frame its faces join on
(core/face_search.py): on a fixed frame, with the image of the frame it started on, the same in
serial and overlapped runs."""
import threading

import numpy as np
import pytest

from core.config import PipelineConfig
from core.detector import Detection
from core.face_search import FaceSearch
from core.frame_overlap import process_overlapped
from core.pipeline import LandmarkPipeline
from core.sources import Frame
from core.synthetic_video import astronaut_rgb, moving_face_frames

FACE = Detection((1.0, 2.0, 3.0, 4.0), 0.9, ((1.5, 2.5), (2.5, 2.5)))


def test_search_runs_in_its_own_thread_on_a_copy_of_the_frame():
    seen = {}
    release = threading.Event()

    def detect(rgb):
        release.wait(5)
        seen["thread"], seen["pixel"] = threading.current_thread().name, int(rgb[0, 0, 0])
        return [FACE]

    search = FaceSearch()
    frame = np.full((4, 4, 3), 7, np.uint8)
    search.start(detect, frame, "tracks then")
    assert search.in_flight
    frame[:] = 99                          # the caller reuses its frame while the search runs
    release.set()
    assert search.collect() == ([FACE], "tracks then") and not search.in_flight
    assert seen["pixel"] == 7 and seen["thread"].startswith("face-search")
    search.close()


def test_one_search_at_a_time_and_errors_reach_the_collector():
    search = FaceSearch()
    search.start(lambda rgb: [FACE], np.zeros((2, 2, 3), np.uint8), None)
    with pytest.raises(RuntimeError, match="already in flight"):
        search.start(lambda rgb: [], np.zeros((2, 2, 3), np.uint8), None)
    search.settle()                        # dropped, unread
    with pytest.raises(RuntimeError, match="no face search"):
        search.collect()

    def broken(rgb):
        raise ValueError("detector failed")

    search.start(broken, np.zeros((2, 2, 3), np.uint8), None)
    with pytest.raises(ValueError, match="detector failed"):
        search.collect()
    search.start(broken, np.zeros((2, 2, 3), np.uint8), None)
    search.settle()                        # a dropped search's error belongs to frames that no longer matter
    search.close()


def second_face_frames(appears: int, total: int = 30) -> list[Frame]:
    """One face moving left; a second, still one at the right from frame `appears` on."""
    moving = moving_face_frames(astronaut_rgb(), total, (480, 360))
    still = moving[0][:, 120:360]
    blank = np.full_like(still, 90)
    return [Frame(np.ascontiguousarray(np.hstack([img[:, 120:360], still if i >= appears else blank])),
                  i, i / 30, "two.mp4") for i, img in enumerate(moving)]


def pipeline(search_lag: int) -> LandmarkPipeline:
    pipe = LandmarkPipeline(PipelineConfig(model="small", detector_range="full", num_threads=1, redetect_every=9,
                                           search_lag=search_lag, min_track_score=0.7))
    pipe.prepare_for_source(live=False)
    return pipe


def faces_per_frame(results) -> list[int]:
    return [len(r.faces) for r in results]


@pytest.mark.parametrize("appears, joins", [(5, 10), (7, 10), (8, 20)])
def test_a_new_face_joins_lag_frames_after_the_search_that_saw_it(appears, joins):
    """Detections on frames 0, 10, 20 (redetect_every 9); with a lag of 3 the searches start on
    frames 7 and 17: a face there by frame 7 joins on frame 10, one that came on frame 8 on 20."""
    frames = second_face_frames(appears)
    pipe = pipeline(3)
    results = [pipe.process(f.image, f.timestamp) for f in frames]
    assert [i for i, r in enumerate(results) if r.detector_ran] == [0, 10, 20]
    assert faces_per_frame(results) == [1] * joins + [2] * (len(frames) - joins)
    pipe.close()


def test_inline_search_sees_the_frame_it_runs_on():
    """search_lag 0: the detector runs on the frame the faces join on, as before the search moved out."""
    pipe = pipeline(0)
    results = [pipe.process(f.image, f.timestamp) for f in second_face_frames(9)]
    assert faces_per_frame(results) == [1] * 10 + [2] * 20
    pipe.close()


def test_overlapped_runs_find_the_new_face_on_the_same_frame_with_the_same_points():
    frames = second_face_frames(6)
    serial = pipeline(3)
    expected = [serial.process(f.image, f.timestamp) for f in frames]
    got = [r for _, r in process_overlapped(pipeline(3), frames)]
    assert faces_per_frame(got) == faces_per_frame(expected) == [1] * 10 + [2] * 20
    for a, b in zip(expected, got):
        assert [f.face_id for f in a.faces] == [f.face_id for f in b.faces]
        for fa, fb in zip(a.faces, b.faces):
            np.testing.assert_array_equal(fa.points, fb.points)


def test_a_negative_lag_is_refused():
    with pytest.raises(ValueError, match="search_lag"):
        PipelineConfig(search_lag=-1)
