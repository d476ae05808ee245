"""Face-alignment error metrics (300-W / WFLW conventions)."""
from __future__ import annotations

import numpy as np

from core.landmarks import Layout


def nme(pred: np.ndarray, truth: np.ndarray, layout: Layout) -> float:
    """Mean point-to-point error normalised by the outer-eye-corner distance."""
    a, b = layout.outer_eye_corners
    norm = float(np.linalg.norm(truth[a] - truth[b]))
    return float(np.linalg.norm(pred - truth, axis=1).mean() / max(norm, 1e-6))


def failure_rate(nmes: np.ndarray, threshold: float = 0.10) -> float:
    return float((np.asarray(nmes) > threshold).mean()) if len(nmes) else float("nan")


def auc(nmes: np.ndarray, threshold: float = 0.10, steps: int = 1000) -> float:
    """Area under the cumulative error distribution up to `threshold`, scaled to [0, 1]."""
    nmes = np.asarray(nmes)
    if not len(nmes):
        return float("nan")
    xs = np.linspace(0, threshold, steps + 1)
    ced = np.array([(nmes <= x).mean() for x in xs])
    return float(np.trapezoid(ced, xs) / threshold) if hasattr(np, "trapezoid") else \
        float(np.trapz(ced, xs) / threshold)
