"""Sub-pixel heatmap decoding (run time); training targets live in training/targets.py.

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
_KERNEL = cv2.getGaussianKernel(5, DECODE_BLUR_SIGMA).ravel().astype(np.float32)   # what cv2.GaussianBlur uses
# Blurring a 7x7 window with the 5x5 kernel gives the 3x3 blurred neighbourhood: window @ _BAND.
_BAND = np.stack([np.pad(_KERNEL, (j, 2 - j)) for j in range(3)], axis=1)      # (7, 3), column j = kernel at j
# The same as one linear map from the flattened window to the flattened 3x3: near = window.ravel() @ WINDOW_TO_NEAR.
WINDOW_TO_NEAR = np.einsum("ai,bj->abij", _BAND, _BAND).reshape(49, 9).astype(np.float32)
WINDOW = np.arange(-3, 4)                  # offsets of the 7x7 window round a peak (core/heatmap_graph.py too)


def _blurred_neighbourhood(maps: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The Gaussian-blurred values (zero border) of each map at its peak's 3x3 neighbourhood.

    Only these 9 values enter the Newton step, so blurring whole maps (68 x 32 x 32 per face)
    was mostly wasted work: this gathers the 7x7 window round each peak and applies the
    separable kernel to it alone, as one (faces x points, 49) @ (49, 9) product. Neighbours
    outside the map repeat the border pixel (edge replication), so a peak on the border still
    has derivatives. (Few, whole-array numpy calls: at 68 small maps a call's overhead, not
    its arithmetic, is the cost.)
    """
    n, h, w = maps.shape
    padded = np.zeros((n, h + 6, w + 6), np.float32)                  # (np.pad is ~10x slower here)
    padded[:, 3:-3, 3:-3] = maps
    offsets = (WINDOW[:, None] * (w + 6) + WINDOW[None, :]).ravel()
    centres = np.arange(n) * ((h + 6) * (w + 6)) + (ys + 3) * (w + 6) + (xs + 3)
    near = (padded.reshape(-1)[centres[:, None] + offsets] @ WINDOW_TO_NEAR).reshape(n, 3, 3)
    top, bottom, left, right = (ys == 0)[:, None], (ys == h - 1)[:, None], (xs == 0)[:, None], (xs == w - 1)[:, None]
    near[:, 0] = np.where(top, near[:, 1], near[:, 0])
    near[:, 2] = np.where(bottom, near[:, 1], near[:, 2])
    near[:, :, 0] = np.where(left, near[:, :, 1], near[:, :, 0])
    near[:, :, 2] = np.where(right, near[:, :, 1], near[:, :, 2])
    return near


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

    # Smooth (the network's peaks are not perfect Gaussians), then log. A small kernel with zero
    # padding: mirroring at the border would bias peaks near the edge; a Gaussian blurred by a
    # Gaussian keeps its centre. Scaling the smoothed map back to the raw peak height only keeps
    # the log away from its floor: a constant factor does not move the Newton step.
    near = _blurred_neighbourhood(heatmaps, ys, xs)                  # (n, 3, 3), [dy + 1, dx + 1]
    scale = scores / np.maximum(near[:, 1, 1], 1e-12)
    p = np.log(np.maximum(near * np.maximum(scale, 1e-12)[:, None, None], 1e-10))
    c = p[:, 1, 1]
    dx = 0.5 * (p[:, 1, 2] - p[:, 1, 0])
    dy = 0.5 * (p[:, 2, 1] - p[:, 0, 1])
    dxx = p[:, 1, 2] - 2 * c + p[:, 1, 0]
    dyy = p[:, 2, 1] - 2 * c + p[:, 0, 1]
    dxy = 0.25 * (p[:, 2, 2] - p[:, 2, 0] - p[:, 0, 2] + p[:, 0, 0])
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
