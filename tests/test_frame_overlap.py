"""The next frame's network while this frame is finished (core/frame_overlap.py): the same answers as
`LandmarkPipeline.process` frame after frame, through detections, lost faces and breaks in the clock."""
import numpy as np
import pytest

from core.clock import ClockWatch
from core.config import ClockConfig, PipelineConfig
from core.frame_overlap import process_overlapped
from core.headless import run_headless
from core.pipeline import LandmarkPipeline
from core.recorder import CsvRecorder
from core.sources import Frame, VideoSource
from core.synthetic_video import astronaut_rgb, moving_face_frames


def shipped_pipeline(**overrides) -> LandmarkPipeline:
    """The shipped small model (its ONNX export, no torch): a real tracker, quick. It still answers
    ~0.5 on a blank frame, so a track ends below 0.7 here (0.25 in the app)."""
    settings = {"min_track_score": 0.7, **overrides}
    return LandmarkPipeline(PipelineConfig(model="small", detector_range="full", num_threads=1, **settings))


def eventful_frames() -> list[Frame]:
    """A moving face that leaves (blank frames: its track is lost, the detector must find it
    again), a second face beside it for a while, a seek (time jumps back) and a reported cut."""
    moving = moving_face_frames(astronaut_rgb(), 40, (480, 360))
    shots = [(img, i / 30, False) for i, img in enumerate(moving[:18])]              # (image, time, cut)
    blank = np.full_like(moving[0], 90)
    shots += [(blank, (18 + i) / 30, False) for i in range(3)]
    two = [np.hstack([img[:, 120:360], img[:, 120:360]]) for img in moving[18:30]]
    shots += [(img, (21 + i) / 30, False) for i, img in enumerate(two)]
    shots += [(img, (5 + i) / 30, False) for i, img in enumerate(moving[30:36])]       # time went back
    shots += [(img, (11 + i) / 30, i == 0) for i, img in enumerate(moving[36:40])]
    return [Frame(img, i, t, "eventful.mp4", cut=cut) for i, (img, t, cut) in enumerate(shots)]


def same_faces(a, b) -> None:
    assert [f.face_id for f in a.faces] == [f.face_id for f in b.faces]
    assert a.detector_ran == b.detector_ran and a.faces_found == b.faces_found and a.blinks == b.blinks
    for fa, fb in zip(a.faces, b.faces):
        np.testing.assert_array_equal(fa.points, fb.points)
        np.testing.assert_array_equal(fa.raw_points, fb.raw_points)
        assert fa.success == fb.success and fa.blink == fb.blink
        np.testing.assert_array_equal([fa.confidence, fa.ear_left, fa.ear_right, fa.mouth_open],
                                      [fb.confidence, fb.ear_left, fb.ear_right, fb.mouth_open])
        assert fa.pose == fb.pose


@pytest.mark.parametrize("redetect_every", [4, 30])
def test_overlapped_answers_equal_serial_ones_through_losses_and_breaks(redetect_every):
    frames = eventful_frames()
    serial = shipped_pipeline(redetect_every=redetect_every)
    serial.prepare_for_source(live=False)
    expected = [serial.process(f.image, f.timestamp, cut=f.cut) for f in frames]

    overlapped = shipped_pipeline(redetect_every=redetect_every)
    overlapped.prepare_for_source(live=False)
    began = {"ahead": 0, "again": 0}
    start, begin = overlapped.start, overlapped.begin
    overlapped.start = lambda *a, **k: (began.__setitem__("ahead", began["ahead"] + 1), start(*a, **k))[1]
    overlapped.begin = lambda *a, **k: (k.get("clock_checked") and began.__setitem__("again", began["again"] + 1),
                                        begin(*a, **k))[1]
    got = list(process_overlapped(overlapped, frames))

    assert [f for f, _ in got] == frames
    for a, b in zip(expected, [r for _, r in got]):
        same_faces(a, b)
    # The events happened, and the overlap was used between them.
    assert any(len(r.faces) == 2 for r in expected) and any(not r.faces for r in expected)
    assert any(f.success is False for r in expected for f in r.faces)           # a lost face, reported once
    assert began["ahead"] > len(frames) // 2
    assert began["again"] >= 1          # the face left after its next frame had begun: begun again in order


def test_stopping_early_finishes_what_it_returned():
    frames = eventful_frames()[:10]
    pipeline = shipped_pipeline()
    pipeline.prepare_for_source(live=False)
    results = process_overlapped(pipeline, frames)
    first = [next(results) for _ in range(3)]
    results.close()                                    # the worker is joined; no error
    assert [f for f, _ in first] == frames[:3] and all(r.faces for _, r in first)


@pytest.mark.parametrize("half", ["run_network", "finish"])
def test_an_error_in_either_half_reaches_the_caller(half):
    """The network runs in the caller's thread, `finish` in the worker's: a failure of either is raised here."""
    pipeline = shipped_pipeline()
    pipeline.prepare_for_source(live=False)

    def broken(begun):
        raise RuntimeError(f"{half} failed")

    setattr(pipeline, half, broken)
    with pytest.raises(RuntimeError, match=f"{half} failed"):
        list(process_overlapped(pipeline, eventful_frames()[:5]))


def test_would_break_answers_as_is_break_without_taking_the_time_in():
    watch, twin = ClockWatch(ClockConfig()), ClockWatch(ClockConfig())
    times = [0.0, 0.033, 0.066, 0.1, 0.1, 0.133, 5.0, 5.033, 2.0, 2.033, 2.066]
    breaks = []
    for i, t in enumerate(times):
        reported = i == 9
        predicted = watch.would_break(t, reported)
        assert watch.would_break(t, reported) == predicted            # asking twice changes nothing
        assert watch.is_break(t, reported) == predicted == twin.is_break(t, reported)
        breaks.append(predicted)
    # Standing still (0.1 twice), the jump to 5 s, the jump back to 2 s and the reported cut; nothing else.
    assert [i for i, b in enumerate(breaks) if b] == [4, 6, 8, 9]


def test_headless_csv_is_the_same_with_and_without_overlap(tmp_path, face_video):
    rows = {}
    for overlap in (True, False):
        pipeline = shipped_pipeline(overlap_frames=overlap)
        csv = tmp_path / f"overlap_{overlap}.csv"
        summary = run_headless(VideoSource(face_video), pipeline, CsvRecorder(csv, 68), max_frames=25,
                               progress=False)
        pipeline.close()
        assert summary.frames == 25
        rows[overlap] = csv.read_text()
    assert rows[True] == rows[False]
    assert len(rows[True].splitlines()) == 26
