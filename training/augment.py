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
    # Small and degraded faces (the issue on strangers: small faces, old photos, bad light).
    small_prob: float = 0.25           # downscale so the eyes are 12-40 px apart, then back up
    small_interocular_px: tuple[float, float] = (12.0, 40.0)
    jpeg_prob: float = 0.25            # JPEG at quality 10-50
    motion_blur_prob: float = 0.1
    gamma_prob: float = 0.2            # strong gamma: 0.4-2.5 (dim rooms, blown-out flash)
    sepia_prob: float = 0.05           # old photo tint
    grain_prob: float = 0.1            # film grain: blurred noise


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


def degrade(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, interocular_px: float) -> np.ndarray:
    """Small-face, compression, motion, lighting and old-photo degradations of an RGB uint8 crop.
    `interocular_px` is the face's outer-eye-corner distance in this crop."""
    img = image
    size = img.shape[0]
    if rng.random() < cfg.small_prob and interocular_px > cfg.small_interocular_px[0]:
        target = rng.uniform(*cfg.small_interocular_px)
        k = target / interocular_px
        if k < 1.0:
            small = max(8, int(round(size * k)))
            img = cv2.resize(cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA), (size, size),
                             interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.motion_blur_prob:
        length = int(rng.integers(3, 9))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < cfg.gamma_prob:
        gamma = float(np.exp(rng.uniform(np.log(0.4), np.log(2.5))))
        lut = np.clip(((np.arange(256) / 255.0) ** gamma) * 255.0, 0, 255).astype(np.uint8)
        img = lut[img]
    if rng.random() < cfg.sepia_prob:
        grey = img.astype(np.float32).mean(axis=2, keepdims=True)
        img = np.clip(grey * np.array([1.07, 0.74, 0.43]) + np.array([20, 10, 0]), 0, 255).astype(np.uint8)
    if rng.random() < cfg.grain_prob:
        grain = cv2.GaussianBlur(rng.normal(0, rng.uniform(6, 18), img.shape[:2]).astype(np.float32), (3, 3), 0)
        img = np.clip(img.astype(np.float32) + grain[:, :, None], 0, 255).astype(np.uint8)
    if rng.random() < cfg.jpeg_prob:
        ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(10, 51))])
        if ok:
            img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return np.ascontiguousarray(img)
