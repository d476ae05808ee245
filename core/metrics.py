"""Face-alignment error metrics (300-W / WFLW conventions).

Every error here is normalised by the outer-eye-corner distance of the
reference answer (`core.landmarks.interocular`), the one normaliser used
throughout the project.
"""
from __future__ import annotations

import numpy as np

from core.landmarks import REGIONS_68, Layout, interocular


def point_errors(pred: np.ndarray, truth: np.ndarray, layout: Layout) -> np.ndarray:
    """(N,) point-to-point distances / outer-eye-corner distance of `truth`."""
    return np.linalg.norm(pred - truth, axis=1) / max(interocular(truth, layout), 1e-6)


def nme(pred: np.ndarray, truth: np.ndarray, layout: Layout) -> float:
    """Mean point-to-point error normalised by the outer-eye-corner distance."""
    return float(point_errors(pred, truth, layout).mean())


def region_errors_68(pred: np.ndarray, truth: np.ndarray, layout: Layout) -> dict[str, float]:
    """NME per face region (jaw, brows, nose, eyes, mouth) and overall, on 68-point answers."""
    errors = point_errors(pred, truth, layout)
    return {"all": float(errors.mean()), **{name: float(errors[list(r)].mean()) for name, r in REGIONS_68.items()}}


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
