"""Training losses: heatmap regression and the two MobileFAN distillation terms.

Zhao et al., "MobileFAN: Transferring Deep Hidden Representation for Face
Alignment", Pattern Recognition 2020, Section 3, and the authors' code
(yangyangkiki/mobilefan; summarised in ../shared/README.md):
- Feature-aligned distillation (FA), eq. (2): L_FA = sum_l || A_l(F_s^l) - F_t^l ||^2
  over the three decoder stages l, where F_s^l, F_t^l are the student's and
  the frozen teacher's hidden feature maps at the same resolution and A_l the
  adapter that maps the student's channels to the teacher's: in the authors'
  code a 1x1 convolution followed by batch normalisation and ReLU (the
  teacher's features are post-ReLU, so the adapted ones are too).
- Feature-similarity distillation (FS), eq. (3)-(4): L_FS = sum_l || S(F_s^l) - S(F_t^l) ||^2
  with S(F)_ij = cos(f_i, f_j) over every pair of the N = H*W spatial
  positions of a stage (an N x N map, no softmax): the face's geometric
  structure, which has no channel count and so needs no adapter.
- Total: L = L_heatmap + 0.01 sum FA + 0.01 sum FS in the authors' example.
All terms are means over elements, so their weights do not depend on sizes
(our heatmap loss is scaled differently from the authors', so the same
weights are not the same balance: the ablation tries several).
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
    """One adapter per distilled stage, student channels -> teacher channels: a 1x1
    convolution, batch normalisation and ReLU, as in the authors' code (`plain=True`:
    the 1x1 convolution alone, as this project's earlier rounds used)."""

    def __init__(self, student_channels: list[int], teacher_channels: list[int], plain: bool = False) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(s, t, 1) if plain else nn.Sequential(nn.Conv2d(s, t, 1, bias=False), nn.BatchNorm2d(t),
                                                           nn.ReLU(inplace=True))
            for s, t in zip(student_channels, teacher_channels))

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        return [conv(f) for conv, f in zip(self.convs, features)]


def feature_aligned_loss(adapted_student: list[torch.Tensor], teacher: list[torch.Tensor]) -> torch.Tensor:
    """Sum over stages of the mean squared difference (eq. 2)."""
    return sum(F.mse_loss(s, t.detach()) for s, t in zip(adapted_student, teacher))


def similarity_map(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, HW, HW) cosine similarity of every pair of positions."""
    flat = F.normalize(features.flatten(2), dim=1)          # (B, C, HW), unit vectors per position
    return flat.transpose(1, 2) @ flat


def feature_similarity_loss(student: list[torch.Tensor], teacher: list[torch.Tensor]) -> torch.Tensor:
    """Sum over stages of the mean squared difference of the N x N cosine-similarity maps (eq. 3-4).

    The same number, computed without the maps: with A (C_s x N) and B (C_t x N) the unit-length
    feature vectors of the N positions, ||A^T A - B^T B||^2 = ||A A^T||^2 - 2 ||A B^T||^2 + ||B B^T||^2
    (expand the square; tr(A^T A B^T B) = ||A B^T||^2). Those are channel-by-channel products: at a
    32 x 32 stage with 32 student and 128 teacher channels, 32 x 32, 32 x 128 and 128 x 128 matrices
    instead of two 1024 x 1024 maps, ~30x fewer multiply-adds and no million-entry tensors per image
    (`similarity_map` keeps the literal form, for the tests). The three sums are taken in float64 so
    that their difference, small when the maps agree, keeps its precision."""
    total = torch.zeros((), device=student[0].device)
    for s, t in zip(student, teacher):
        a = F.normalize(s.flatten(2), dim=1).double()                 # (B, C_s, N)
        b = F.normalize(t.detach().flatten(2), dim=1).double()        # (B, C_t, N)
        positions = a.shape[-1]
        squared = ((a @ a.transpose(1, 2)).square().sum((1, 2)) - 2 * (a @ b.transpose(1, 2)).square().sum((1, 2))
                   + (b @ b.transpose(1, 2)).square().sum((1, 2)))
        total = total + (squared.clamp_min(0) / positions ** 2).mean().float()
    return total
