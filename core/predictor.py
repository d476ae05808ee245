"""Crop -> MobileFAN -> heatmap decode -> frame coordinates, for a batch of faces.

The one place that runs the network on faces; the live pipeline, the
evaluation, the int8 calibration and the benchmarks all call it, so they
measure the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.geometry import Crop, apply_affine, crop_from_landmarks, warp_crop
from core.heatmap import decode_heatmaps, heatmap_to_input
from core.config import ModelConfig
from core.landmarks import Layout, layout_for
from core.runtimes import HeatmapRunner


@dataclass
class Prediction:
    points: np.ndarray      # (N, 2) frame pixels
    scores: np.ndarray      # (N,) heatmap peak heights; ~1 where the model is sure
    crop: Crop | None = None    # where the network looked (a second network may look there too)


class LandmarkPredictor:
    """`config` is the model's (how it frames and decodes faces), `runner` the inference back-end
    that runs it (core/runtimes.py; core/torch_runners.py for a model held in memory)."""

    def __init__(self, config: ModelConfig, runner: HeatmapRunner) -> None:
        self.config = config
        self.layout: Layout = layout_for(config.num_points)
        self.runner = runner

    def crop_from_landmarks(self, points: np.ndarray) -> Crop:
        """Frame a face from landmarks the way this model was trained (its checkpoint's framing)."""
        return crop_from_landmarks(points, layout_for(len(points)), self.config.landmark_scale)

    def crops(self, rgb: np.ndarray, crops: list[Crop]) -> np.ndarray:
        size = self.config.input_size
        return np.stack([warp_crop(rgb, c, size) for c in crops]) if crops else \
            np.zeros((0, size, size, 3), np.uint8)

    def heatmaps(self, patches: np.ndarray) -> np.ndarray:
        if len(patches) == 0:
            n, s = self.config.num_points, self.config.heatmap_size
            return np.zeros((0, n, s, s), np.float32)
        return self.runner(_network_input(patches))

    def locate(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The faces' landmarks in heatmap pixels (F, N, 2) and their peak scores (F, N): decoded in
        the runner's own graph when it can (core/heatmap_graph.py: one call, no heatmaps copied
        out), else from its heatmaps here (core/heatmap.py). The same numbers either way."""
        if len(patches) and getattr(self.runner, "decodes_in_graph", False):
            found = self.runner.decoded(_network_input(patches))
            return found[..., :2], found[..., 2]
        return decode_heatmaps(self.heatmaps(patches))

    def to_frame(self, points: np.ndarray, scores: np.ndarray, crops: list[Crop]) -> list[Prediction]:
        """Heatmap-pixel landmarks of each crop -> frame pixels."""
        size, hm = self.config.input_size, self.config.heatmap_size
        in_crop = heatmap_to_input(points, size, hm)
        return [Prediction(apply_affine(crop.inverse_matrix(size), pts).astype(np.float32), s, crop)
                for crop, pts, s in zip(crops, in_crop, scores)]

    def predict(self, rgb: np.ndarray, crops: list[Crop]) -> list[Prediction]:
        if not crops:
            return []
        return self.to_frame(*self.locate(self.crops(rgb, crops)), crops)


def _network_input(patches: np.ndarray) -> np.ndarray:
    """(F, S, S, 3) uint8 RGB crops -> the (F, 3, S, S) float32 batch every runner takes."""
    return np.ascontiguousarray(patches.transpose(0, 3, 1, 2), dtype=np.float32)
