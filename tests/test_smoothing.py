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


def test_repeated_timestamp_returns_last_estimate():
    f = OneEuroFilter()
    f(np.array([1.0]), 0.0)
    last = f(np.array([2.0]), 0.1)
    assert 1.0 < last[0] < 2.0                              # it did filter
    again = f(np.array([50.0]), 0.1)                        # same clock: no division by zero, no jump
    assert np.array_equal(again, last)
    older = f(np.array([-50.0]), 0.05)                      # a clock that went backwards: likewise
    assert np.array_equal(older, last)
