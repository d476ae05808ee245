"""Crop -> MobileFAN -> heatmap decode -> frame coordinates, for a batch of faces.

The one place that runs the network on faces; the live pipeline, the
evaluation and the benchmarks all call it, so they measure the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.geometry import Crop, crop_to_frame, warp_crop
from core.heatmap import decode_heatmaps, heatmap_to_input
from core.model import MobileFAN
from core.runtimes import HeatmapRunner, TorchRunner


@dataclass
class Prediction:
    points: np.ndarray      # (N, 2) frame pixels
    scores: np.ndarray      # (N,) heatmap peak heights; ~1 where the model is sure


class LandmarkPredictor:
    """`runner` picks the inference back-end (core/runtimes.py); eager PyTorch by default."""

    def __init__(self, model: MobileFAN, runner: HeatmapRunner | None = None) -> None:
        self.model = model.eval()
        self.config = model.config
        self.runner = runner or TorchRunner(model)

    def crops(self, rgb: np.ndarray, crops: list[Crop]) -> np.ndarray:
        size = self.config.input_size
        return np.stack([warp_crop(rgb, c, size) for c in crops]) if crops else \
            np.zeros((0, size, size, 3), np.uint8)

    def heatmaps(self, patches: np.ndarray) -> np.ndarray:
        if len(patches) == 0:
            n, s = self.config.num_points, self.config.heatmap_size
            return np.zeros((0, n, s, s), np.float32)
        return self.runner(np.ascontiguousarray(patches.transpose(0, 3, 1, 2), dtype=np.float32))

    def decode(self, heatmaps: np.ndarray, crops: list[Crop]) -> list[Prediction]:
        out = []
        size, hm = self.config.input_size, self.config.heatmap_size
        for maps, crop in zip(heatmaps, crops):
            pts, scores = decode_heatmaps(maps)
            frame_pts = crop_to_frame(crop, heatmap_to_input(pts, size, hm), size)
            out.append(Prediction(frame_pts.astype(np.float32), scores))
        return out

    def predict(self, rgb: np.ndarray, crops: list[Crop]) -> list[Prediction]:
        return self.decode(self.heatmaps(self.crops(rgb, crops)), crops)
