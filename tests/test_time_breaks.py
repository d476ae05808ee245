"""A clock that loops, seeks back or jumps is a break, not noise: the tracks start afresh and
the smoothed points follow the face on every pass (issue: `--loop` froze the overlay)."""
import numpy as np
import pytest

from core.clock import ClockWatch
from core.config import ClockConfig, PipelineConfig, WEIGHTS_DIR
from core.face_measures import BlinkDetector
from core.landmarks import interocular, layout_for
from core.pipeline import LandmarkPipeline
from core.smoothing import OneEuroFilter
from core.synthetic_video import astronaut_rgb, moving_face_frames

FPS = 30.0
SHIPPED = WEIGHTS_DIR / "mobilefan_68.pt"


@pytest.fixture(scope="module")
def clip():
    return moving_face_frames(astronaut_rgb(), frames=90, size=(480, 360))


@pytest.fixture(scope="module")
def pipeline():
    pipe = LandmarkPipeline(PipelineConfig(weights=SHIPPED, detector_range="full", runtime="onnxruntime"))
    yield pipe
    pipe.close()


def feed(pipe, frames, times, cut_first=False):
    """Smoothed points of the first face per frame (NaN where there is none)."""
    out = []
    for i, (frame, t) in enumerate(zip(frames, times)):
        result = pipe.process(frame, t, cut=cut_first and i == 0)
        out.append(result.faces[0].points.copy() if result.faces else np.full((68, 2), np.nan))
    return np.array(out)


def iod(points):
    return np.array([interocular(p, layout_for(68)) for p in points])


def test_a_clip_played_twice_with_time_restarting_at_zero_gives_the_same_points(pipeline, clip):
    pipeline.prepare_for_source(live=False)
    times = np.arange(len(clip)) / FPS
    first = feed(pipeline, clip, times)
    second = feed(pipeline, clip, times)                   # a loop: the source does not say so
    assert np.isfinite(first).all() and np.isfinite(second).all()
    # The face moves a lot over the clip (the smoothed points follow it in both passes)...
    centres = second.mean(axis=1)
    assert np.ptp(centres[:, 0]) > 40
    # ... and the second pass is the first one again: same frames, same crops, same filter state.
    error = np.linalg.norm(second - first, axis=2).mean(axis=1) / iod(first)
    assert error.max() < 1e-3, error.max()


def test_a_loop_the_source_reports_gives_the_same_points(pipeline, clip):
    pipeline.prepare_for_source(live=False)
    times = np.arange(len(clip)) / FPS
    first = feed(pipeline, clip, times)
    second = feed(pipeline, clip, times, cut_first=True)
    assert np.linalg.norm(second - first, axis=2).mean() < 0.05


def test_a_seek_back_settles_on_the_first_pass_points(pipeline, clip):
    pipeline.prepare_for_source(live=False)
    times = np.arange(len(clip)) / FPS
    first = feed(pipeline, clip, times)
    again = feed(pipeline, clip[30:], times[30:])         # seek back to frame 30
    # A fresh track from frame 30 differs from one that ran since frame 0 only while it settles.
    error = np.linalg.norm(again - first[30:], axis=2).mean(axis=1) / iod(first[30:])
    assert error[0] < 0.1                                   # not where the first pass ended
    assert np.median(error[15:]) < 0.02, error
    # What the bug did: the points stayed where the first pass ended, far from this face.
    assert np.linalg.norm(first[-1] - first[30], axis=1).mean() / iod(first[30:31])[0] > 0.2


def test_a_jump_forward_far_beyond_the_frame_spacing_starts_tracks_afresh(pipeline, clip):
    pipeline.prepare_for_source(live=False)
    ids = [pipeline.process(f, i / FPS).faces[0].face_id for i, f in enumerate(clip[:20])]
    assert len(set(ids)) == 1
    after = pipeline.process(clip[60], 60.0).faces                   # a 59 s seek forward
    assert after and after[0].face_id != ids[0]                      # a new track, a new id


def test_dropped_frames_are_not_mistaken_for_a_seek(pipeline, clip):
    """The window drops stale frames: gaps of several source frames are its normal spacing."""
    pipeline.prepare_for_source(live=False)
    ids = {pipeline.process(clip[i], i / FPS).faces[0].face_id for i in range(0, 90, 6)}
    assert len(ids) == 1


def test_clock_watch_breaks():
    watch = ClockWatch(ClockConfig(max_gap_frames=5, min_gap_s=0.5))
    assert not any(watch.is_break(i / 30) for i in range(30))       # a steady 30 fps
    assert watch.is_break(0.0)                                       # back to the start
    assert not watch.is_break(1 / 30)
    assert watch.is_break(1 / 30)                                    # time stood still
    assert not any(watch.is_break(1 / 30 + i / 5) for i in range(1, 10))  # 5 fps (dropping): steady
    assert watch.is_break(100.0)                                     # a seek forward
    assert watch.is_break(100.1, reported=True)                     # the source said so


def test_the_filter_starts_afresh_when_time_goes_back():
    f = OneEuroFilter()
    for i in range(30):
        f(np.array([float(i)]), i / FPS)
    assert f(np.array([-40.0]), 0.0)[0] == -40.0          # back to 0: the new sample, not the old estimate
    assert f(np.array([7.0]), 0.0)[0] == 7.0              # the same time again: likewise
    follow = [f(np.array([-40.0 + i]), i / FPS)[0] for i in range(1, 30)]
    assert abs(follow[-1] - (-40.0 + 29)) < 3.0            # and it follows from there


def test_the_blink_baseline_forgets_when_time_goes_back():
    blinks = BlinkDetector()
    for i in range(60):
        blinks.update(0.30, i / FPS)
    assert blinks.baseline() == pytest.approx(0.30)
    blinks.update(0.10, 0.0)                               # a loop: back to 0 with eyes half shut
    assert blinks.baseline() is None                       # the old eyes are not this moment's baseline
