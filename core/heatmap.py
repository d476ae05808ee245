"""Heatmap targets and sub-pixel decoding.

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
import torch


def render_heatmaps(points: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """(..., N, 2) points in heatmap pixels -> (..., N, size, size) float32 Gaussians.

    Centres are not rounded: the target peak sits at the true sub-pixel
    position, which is what lets the decoder recover it. Torch, so the
    trainer renders a whole batch on its device: the data loader's workers
    (the bottleneck on a GPU) only crop, and pass 2 floats per point
    instead of a 32x32 map.
    """
    grid = torch.arange(size, dtype=torch.float32, device=points.device)
    gx = torch.exp(-(grid - points[..., 0:1].float()) ** 2 / (2 * sigma ** 2))     # (..., N, size)
    gy = torch.exp(-(grid - points[..., 1:2].float()) ** 2 / (2 * sigma ** 2))
    return gy.unsqueeze(-1) * gx.unsqueeze(-2)


DECODE_BLUR_SIGMA = 1.0


def decode_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W) heatmaps -> ((N, 2) points in heatmap pixels, (N,) peak scores)."""
    n, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, -1)
    idx = flat.argmax(axis=1)
    scores = flat[np.arange(n), idx].astype(np.float32)
    ys, xs = np.divmod(idx, w)
    coords = np.stack([xs, ys], axis=1).astype(np.float32)

    # Smooth (the network's peaks are not perfect Gaussians), then log. A small
    # kernel with zero padding: mirroring at the border would bias peaks near
    # the edge; a Gaussian blurred by a Gaussian keeps its centre.
    smoothed = np.empty_like(heatmaps, dtype=np.float32)
    for i in range(n):
        smoothed[i] = cv2.GaussianBlur(heatmaps[i].astype(np.float32), (5, 5), DECODE_BLUR_SIGMA,
                                       borderType=cv2.BORDER_CONSTANT)
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
    return coords, scores


def heatmap_to_input(points: np.ndarray, input_size: int, heatmap_size: int) -> np.ndarray:
    """Heatmap pixel -> input pixel. Pixel centres align: x_in = (x_hm + 0.5) * stride - 0.5."""
    stride = input_size / heatmap_size
    return (points + 0.5) * stride - 0.5


def input_to_heatmap(points: np.ndarray, input_size: int, heatmap_size: int) -> np.ndarray:
    stride = input_size / heatmap_size
    return (points + 0.5) / stride - 0.5
