"""Sub-pixel heatmap decoding (run time); training targets live in core/training/targets.py.

At 32x32 heatmaps one heatmap pixel is 4 input pixels, so plain argmax would
cost up to 2 input pixels of error. Decoding follows DARK (Zhang et al.,
"Distribution-Aware Coordinate Representation for Human Pose Estimation",
CVPR 2020): smooth the heatmap with the training Gaussian, take the log, and
refine the argmax with one Newton step of its second-order Taylor expansion.
For a Gaussian-shaped peak the log is exactly quadratic, so the step lands on
the true centre.
"""
from __future__ import annotations

import cv2
import numpy as np


DECODE_BLUR_SIGMA = 1.0


# cv2 filters at most 512 channels at once.
_MAX_CHANNELS = 512


def _blur(maps: np.ndarray) -> np.ndarray:
    """Gaussian blur of every (H, W) map at once: maps as the channels of one image."""
    n = len(maps)
    out = np.empty(maps.shape, np.float32)
    for i in range(0, n, _MAX_CHANNELS):
        chunk = np.ascontiguousarray(maps[i:i + _MAX_CHANNELS].astype(np.float32).transpose(1, 2, 0))
        blurred = cv2.GaussianBlur(chunk, (5, 5), DECODE_BLUR_SIGMA, borderType=cv2.BORDER_CONSTANT)
        out[i:i + _MAX_CHANNELS] = blurred.reshape(chunk.shape).transpose(2, 0, 1)
    return out


def decode_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., N, H, W) heatmaps -> ((..., N, 2) points in heatmap pixels, (..., N) peak scores).

    Vectorised over points and faces: a frame's faces decode in one call.
    """
    lead = heatmaps.shape[:-2]
    h, w = heatmaps.shape[-2:]
    heatmaps = heatmaps.reshape(-1, h, w)
    n = len(heatmaps)
    if n == 0:
        return np.zeros((*lead, 2), np.float32), np.zeros(lead, np.float32)
    flat = heatmaps.reshape(n, -1)
    idx = flat.argmax(axis=1)
    scores = flat[np.arange(n), idx].astype(np.float32)
    ys, xs = np.divmod(idx, w)
    coords = np.stack([xs, ys], axis=1).astype(np.float32)

    # Smooth (the network's peaks are not perfect Gaussians), then log. A small
    # kernel with zero padding: mirroring at the border would bias peaks near
    # the edge; a Gaussian blurred by a Gaussian keeps its centre.
    smoothed = _blur(heatmaps)
    peak_before = heatmaps.reshape(n, -1).max(axis=1)
    peak_after = smoothed.reshape(n, -1).max(axis=1)
    smoothed *= (peak_before / np.maximum(peak_after, 1e-12))[:, None, None]
    logh = np.log(np.maximum(smoothed, 1e-10))

    # Pad by edge replication so derivatives at the border exist.
    p = np.pad(logh, ((0, 0), (1, 1), (1, 1)), mode="edge")
    xi = xs + 1
    yi = ys + 1
    r = np.arange(n)
    c = p[r, yi, xi]
    dx = 0.5 * (p[r, yi, xi + 1] - p[r, yi, xi - 1])
    dy = 0.5 * (p[r, yi + 1, xi] - p[r, yi - 1, xi])
    dxx = p[r, yi, xi + 1] - 2 * c + p[r, yi, xi - 1]
    dyy = p[r, yi + 1, xi] - 2 * c + p[r, yi - 1, xi]
    dxy = 0.25 * (p[r, yi + 1, xi + 1] - p[r, yi + 1, xi - 1] - p[r, yi - 1, xi + 1] + p[r, yi - 1, xi - 1])
    det = dxx * dyy - dxy ** 2
    ok = (det > 1e-12) & (dxx < 0) & (dyy < 0)
    safe = np.where(ok, det, 1.0)
    off_x = -(dyy * dx - dxy * dy) / safe
    off_y = -(dxx * dy - dxy * dx) / safe
    # A Newton step longer than a pixel means the peak is not Gaussian-like; keep argmax.
    ok &= (np.abs(off_x) <= 1.0) & (np.abs(off_y) <= 1.0)
    coords[:, 0] += np.where(ok, off_x, 0.0)
    coords[:, 1] += np.where(ok, off_y, 0.0)
    return coords.reshape(*lead, 2), scores.reshape(lead)


def heatmap_to_input(points: np.ndarray, input_size: int, heatmap_size: int) -> np.ndarray:
    """Heatmap pixel -> input pixel. Pixel centres align: x_in = (x_hm + 0.5) * stride - 0.5."""
    stride = input_size / heatmap_size
    return (points + 0.5) * stride - 0.5


def input_to_heatmap(points: np.ndarray, input_size: int, heatmap_size: int) -> np.ndarray:
    stride = input_size / heatmap_size
    return (points + 0.5) / stride - 0.5
