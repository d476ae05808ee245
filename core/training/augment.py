"""Training-time augmentation of face crops.

Geometric jitter (rotation +-30 deg, scale, translation) is applied to the
crop transform itself, so the image is resampled once. It also covers the
gap between training crops (framed from the true landmarks) and run-time
crops (framed from a detector box or the previous frame's landmarks).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.geometry import Crop
from core.landmarks import Layout, flip_points


@dataclass(frozen=True)
class AugmentConfig:
    max_rotation_deg: float = 30.0
    scale_range: tuple[float, float] = (0.85, 1.2)
    max_shift: float = 0.08            # fraction of the crop side
    flip_prob: float = 0.5
    grey_prob: float = 0.15
    blur_prob: float = 0.2
    noise_prob: float = 0.2
    occlusion_prob: float = 0.3
    colour_jitter: float = 0.3


def jitter_crop(crop: Crop, rng: np.random.Generator, cfg: AugmentConfig) -> Crop:
    angle = crop.angle + math.radians(rng.uniform(-cfg.max_rotation_deg, cfg.max_rotation_deg))
    side = crop.side * rng.uniform(*cfg.scale_range)
    dx, dy = rng.uniform(-cfg.max_shift, cfg.max_shift, 2) * crop.side
    return Crop(crop.cx + dx, crop.cy + dy, side, angle)


def flip_crop(image: np.ndarray, points: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(image[:, ::-1]), flip_points(points, image.shape[1], layout)


def photometric(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Colour, grey, blur, noise and an occluding patch on an RGB uint8 crop."""
    img = image.astype(np.float32)
    j = cfg.colour_jitter
    img = img * rng.uniform(1 - j, 1 + j) + rng.uniform(-j, j) * 64          # contrast, brightness
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * rng.uniform(1 - j, 1 + j)                    # saturation
    if rng.random() < cfg.grey_prob:
        img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2)
    if rng.random() < cfg.blur_prob:
        k = int(rng.choice([3, 5]))
        img = cv2.GaussianBlur(img, (k, k), 0)
    if rng.random() < cfg.noise_prob:
        img = img + rng.normal(0, rng.uniform(3, 12), img.shape)
    if rng.random() < cfg.occlusion_prob:
        size = img.shape[0]
        w, h = (rng.uniform(0.15, 0.4, 2) * size).astype(int)
        x, y = rng.integers(0, size - w), rng.integers(0, size - h)
        img[y:y + h, x:x + w] = rng.uniform(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)
