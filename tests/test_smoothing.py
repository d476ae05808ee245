import numpy as np

from core.smoothing import OneEuroFilter

FPS = 30.0
FACE = 150.0


def run(filter_, signal):
    t = np.arange(len(signal)) / FPS
    return np.array([filter_(np.array([v, -v]), tt, FACE)[0] for v, tt in zip(signal, t)])


def test_reduces_jitter_on_a_still_noisy_track():
    rng = np.random.default_rng(0)
    truth = np.full(200, 100.0)
    noisy = truth + rng.normal(0, 1.5, 200)
    out = run(OneEuroFilter(), noisy)
    raw_jitter = np.std(np.diff(noisy[20:]))
    smooth_jitter = np.std(np.diff(out[20:]))
    assert smooth_jitter < 0.4 * raw_jitter
    assert abs(out[20:].mean() - 100.0) < 0.5


def test_follows_a_step_within_a_few_frames():
    rng = np.random.default_rng(1)
    truth = np.where(np.arange(120) < 60, 100.0, 130.0)     # a 0.2-face-size jump
    out = run(OneEuroFilter(), truth + rng.normal(0, 1.0, 120))
    settled = next(i for i in range(60, 120) if abs(out[i] - 130.0) < 3.0)
    assert settled - 60 <= 5


def test_scale_awareness_same_behaviour_far_and_near():
    # The same motion in face-size units is filtered the same for a small and a big face.
    small, big = OneEuroFilter(), OneEuroFilter()
    t = np.arange(60) / FPS
    motion = np.sin(t * 3)
    a = [small(np.array([10 * m]), tt, 10.0)[0] / 10 for m, tt in zip(motion, t)]
    b = [big(np.array([200 * m]), tt, 200.0)[0] / 200 for m, tt in zip(motion, t)]
    assert np.allclose(a, b, atol=1e-9)


def test_reset_forgets_the_past():
    f = OneEuroFilter()
    for i in range(10):
        f(np.array([0.0]), i / FPS)
    f.reset()
    assert f(np.array([500.0]), 1.0)[0] == 500.0


def test_a_clock_that_does_not_advance_restarts_the_filter():
    """A repeated or older time is a break (a loop, a seek back): the filter takes the new sample
    as it is. Keeping the last estimate froze a looped video's points (tests/test_time_breaks.py)."""
    f = OneEuroFilter()
    f(np.array([1.0]), 0.0)
    last = f(np.array([2.0]), 0.1)
    assert 1.0 < last[0] < 2.0                              # it did filter
    assert f(np.array([50.0]), 0.1)[0] == 50.0              # same clock: no division by zero, no freeze
    assert f(np.array([-50.0]), 0.05)[0] == -50.0           # a clock that went backwards: likewise
    assert -50.0 < f(np.array([-40.0]), 0.1)[0] < -40.0     # and it filters again from there


def test_face_wide_speed_is_the_mean_point_speed():
    """A rigid sideways move: every point moves at the same speed, so the face-wide speed
    equals each point's own and both modes give the same answer."""
    shared, per_coordinate = OneEuroFilter(0.7, 8.0, 1.5, shared_speed=True), OneEuroFilter(0.7, 8.0, 1.5)
    face = np.random.default_rng(0).uniform(0, 150, (68, 2))
    for i in range(40):
        moved = face + [3.0 * i, 0.0]
        a, b = shared(moved, i / FPS, FACE), per_coordinate(moved, i / FPS, FACE)
    assert np.allclose(a, b)


def test_face_wide_speed_lets_every_coordinate_follow_a_head_move():
    """A head moving fast sideways and slowly downwards: per coordinate, the slow y
    coordinates keep a low cutoff and lag; with one speed for the face they follow."""
    rng = np.random.default_rng(2)
    base = rng.uniform(0, 150, (68, 2))
    frames = np.array([base + rng.normal(0, 0.5, base.shape) + (np.array([4.0, 0.6]) * max(0, i - 40))
                       for i in range(90)])
    lag, rest = {}, {}
    for shared in (True, False):
        f = OneEuroFilter(0.7, 8.0, 1.5, shared_speed=shared)
        out = np.array([f(p, i / FPS, FACE) for i, p in enumerate(frames)])
        truth_y = base[:, 1] + 0.6 * np.maximum(0, np.arange(90)[:, None] - 40)
        lag[shared] = np.abs(out[60:, :, 1] - truth_y[60:]).mean()
        rest[shared] = np.abs(np.diff(out[15:40], 2, axis=0)).mean()
    assert lag[True] < 0.6 * lag[False]
    assert rest[True] < 1.3 * rest[False]                     # at rest, no steadier or shakier to speak of
