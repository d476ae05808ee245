"""Training losses: heatmap regression and the two MobileFAN distillation terms.

Zhao et al. 2020, Section 3:
- Feature-aligned distillation (FA): L_FA = sum_l || A_l(F_s^l) - F_t^l ||^2, where
  F_s^l, F_t^l are the student's and teacher's hidden feature maps at the same
  resolution and A_l a 1x1 convolution that maps the student's channels to
  the teacher's.
- Feature-similarity distillation (FS): L_FS = sum_l || S(F_s^l) - S(F_t^l) ||^2,
  with S(F)_ij = cos(f_i, f_j) over every pair of spatial positions i, j of a
  feature map: the face's geometric structure, which has no channel count
  and so needs no adapter.
All terms are means over elements, so their weights do not depend on sizes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def heatmap_loss(pred: torch.Tensor, target: torch.Tensor, foreground_weight: float = 20.0,
                 point_weights: torch.Tensor | None = None) -> torch.Tensor:
    """MSE with the pixels near each landmark weighted up.

    Under plain MSE an all-zero heatmap is a deep local minimum (the peak
    covers ~1% of a 32x32 map) and a small CPU budget is spent escaping it;
    weighting by (1 + w * target) removes that plateau. `point_weights` (one
    per landmark, mean 1) weights whole heatmaps, e.g. the eyelids, whose
    few-pixel moves carry blinks. x100 only keeps the logged value near 1.
    """
    weight = 1.0 + foreground_weight * target
    if point_weights is not None:
        weight = weight * point_weights.view(1, -1, 1, 1)
    return (weight * (pred - target) ** 2).mean() * 100.0


class FeatureAdapters(nn.Module):
    """One 1x1 convolution per distilled level: student channels -> teacher channels."""

    def __init__(self, student_channels: list[int], teacher_channels: list[int]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(s, t, 1) for s, t in zip(student_channels, teacher_channels))

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        return [conv(f) for conv, f in zip(self.convs, features)]


def feature_aligned_loss(adapted_student: list[torch.Tensor], teacher: list[torch.Tensor]) -> torch.Tensor:
    return sum(F.mse_loss(s, t.detach()) for s, t in zip(adapted_student, teacher))


def similarity_map(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, HW, HW) cosine similarity of every pair of positions."""
    flat = F.normalize(features.flatten(2), dim=1)          # (B, C, HW), unit vectors per position
    return flat.transpose(1, 2) @ flat


def feature_similarity_loss(student: list[torch.Tensor], teacher: list[torch.Tensor]) -> torch.Tensor:
    return sum(F.mse_loss(similarity_map(s), similarity_map(t.detach())) for s, t in zip(student, teacher))
