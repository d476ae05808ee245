"""Heatmap training targets: one Gaussian per landmark, rendered on the training device."""
from __future__ import annotations

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


