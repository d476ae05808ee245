import cv2
import numpy as np
import torch

from core.heatmap import decode_heatmaps, heatmap_to_input, input_to_heatmap
from training.targets import render_heatmaps


def render(pts, size, sigma):
    return render_heatmaps(torch.from_numpy(np.asarray(pts, np.float32)), size, sigma).numpy()


def test_round_trip_is_sub_tenth_pixel():
    rng = np.random.default_rng(1)
    size = 32
    # Points at least 2 heatmap pixels from the border, as face landmarks in a 1.35x crop are.
    pts = rng.uniform(2, size - 3, (500, 2))
    decoded, scores = decode_heatmaps(render(pts, size, 1.5))
    err = np.linalg.norm(decoded - pts, axis=1)
    assert err.max() < 0.1
    assert scores.min() > 0.5


def test_refinement_beats_plain_argmax():
    rng = np.random.default_rng(2)
    pts = rng.uniform(3, 28, (300, 2))
    hm = render(pts, 32, 1.5)
    argmax = np.stack(np.unravel_index(hm.reshape(300, -1).argmax(1), (32, 32))[::-1], 1)
    refined, _ = decode_heatmaps(hm)
    assert np.linalg.norm(refined - pts, axis=1).mean() < 0.2 * np.linalg.norm(argmax - pts, axis=1).mean()


def test_decoding_survives_noise():
    rng = np.random.default_rng(3)
    pts = rng.uniform(4, 27, (200, 2))
    hm = render(pts, 32, 1.5) + rng.normal(0, 0.02, (200, 32, 32)).astype(np.float32)
    decoded, _ = decode_heatmaps(hm)
    assert np.linalg.norm(decoded - pts, axis=1).mean() < 0.3


def test_flat_heatmap_does_not_crash():
    decoded, scores = decode_heatmaps(np.zeros((5, 32, 32), np.float32))
    assert np.isfinite(decoded).all() and (scores == 0).all()


def test_faces_decode_together_as_they_do_one_by_one():
    rng = np.random.default_rng(4)
    pts = rng.uniform(3, 28, (3, 68, 2))
    maps = render(pts, 32, 1.5)                       # (3 faces, 68, 32, 32)
    together, scores = decode_heatmaps(maps)
    assert together.shape == (3, 68, 2) and scores.shape == (3, 68)
    for face in range(3):
        alone, _ = decode_heatmaps(maps[face])
        assert np.allclose(together[face], alone)
    assert np.abs(together - pts).max() < 0.1


def test_heatmap_input_coordinate_maps_invert():
    pts = np.array([[0.0, 0.0], [127.0, 64.5], [33.3, 90.1]])
    assert np.allclose(heatmap_to_input(input_to_heatmap(pts, 128, 32), 128, 32), pts)
    # Pixel centres line up: heatmap pixel 0 covers input pixels 0..3, centre 1.5.
    assert np.allclose(heatmap_to_input(np.array([[0.0, 0.0]]), 128, 32), 1.5)


def test_batched_rendering_is_the_gaussian_at_each_pixel():
    pts = np.random.default_rng(3).uniform(-2, 34, (4, 68, 2)).astype(np.float32)
    batched = render(pts, 32, 1.5)
    assert batched.shape == (4, 68, 32, 32) and batched.dtype == np.float32
    yy, xx = np.mgrid[0:32, 0:32]
    for b, n in [(0, 0), (1, 30), (3, 67)]:
        x, y = pts[b, n]
        expected = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5 ** 2))
        np.testing.assert_allclose(batched[b, n], expected, atol=1e-6)


def reference_dark(maps: np.ndarray) -> np.ndarray:
    """DARK as written in the paper, on whole maps: blur every map (5x5, sigma 1, zero border), take
    the log, and one Newton step at the argmax with edge-replicated derivatives."""
    out = []
    for m in maps:
        y, x = np.unravel_index(m.argmax(), m.shape)
        logm = np.log(np.maximum(cv2.GaussianBlur(m.astype(np.float32), (5, 5), 1.0, borderType=cv2.BORDER_CONSTANT),
                                 1e-10))
        p = np.pad(logm, 1, mode="edge")
        y1, x1 = y + 1, x + 1
        g = np.array([0.5 * (p[y1, x1 + 1] - p[y1, x1 - 1]), 0.5 * (p[y1 + 1, x1] - p[y1 - 1, x1])])
        dxy = 0.25 * (p[y1 + 1, x1 + 1] - p[y1 + 1, x1 - 1] - p[y1 - 1, x1 + 1] + p[y1 - 1, x1 - 1])
        hess = np.array([[p[y1, x1 + 1] - 2 * p[y1, x1] + p[y1, x1 - 1], dxy],
                         [dxy, p[y1 + 1, x1] - 2 * p[y1, x1] + p[y1 - 1, x1]]])
        step = np.zeros(2)
        if np.linalg.det(hess) > 1e-12 and hess[0, 0] < 0 and hess[1, 1] < 0:
            step = -np.linalg.solve(hess, g)
            if np.abs(step).max() > 1.0:
                step = np.zeros(2)
        out.append(np.array([x, y]) + step)
    return np.array(out)


def test_local_decode_equals_whole_map_dark_including_peaks_on_the_border():
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:32, :32]
    maps = []
    for _ in range(120):
        cy, cx = (rng.choice([0, 1, 30, 31, rng.uniform(0, 31)]) for _ in range(2))
        sigma = rng.uniform(1.0, 2.5)
        m = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma ** 2)) * rng.uniform(0.2, 1.0)
        maps.append(m + rng.normal(0, 0.02, m.shape))                 # network-like: noisy, not exact
    maps = np.array(maps, np.float32)
    decoded, _ = decode_heatmaps(maps)
    assert np.abs(decoded - reference_dark(maps)).max() < 1e-3
