"""Test-time mirroring: each face is also run mirrored, and the two answers averaged.

A network's errors on a face and on its mirror image are partly independent
(it was trained on both, with flip augmentation), so the average of the two
heatmaps, the mirrored one flipped back and its landmarks renumbered, is a
little more accurate than either (the practice of HRNet's and SimpleBaseline's
evaluations). It costs a second pass of the network per face, so the app
uses it only where accuracy is asked for over speed (`PipelineConfig.mirror`).

Pixel centres line up exactly: a crop of S pixels mirrored maps input pixel x
to S - 1 - x, and with heatmap pixel centres at x_in = (x_hm + 0.5) * stride - 0.5
(core/heatmap.py) that is heatmap pixel H - 1 - x_hm: a plain reversal of the
heatmap's columns.
"""
from __future__ import annotations

import numpy as np

from core.landmarks import Layout
from core.runtimes import HeatmapRunner


class MirrorAveragingRunner:
    """A HeatmapRunner that runs `runner` on the batch and on its mirror image in one call,
    and returns the mean of the direct heatmaps and the mirrored ones flipped back."""

    # Mirroring averages heatmaps, so they must come out of the graph: never the wrapped runner's
    # decoding in its graph (which `__getattr__` would otherwise hand on).
    decodes_in_graph = False

    def __init__(self, runner: HeatmapRunner, layout: Layout) -> None:
        self.runner = runner
        self.permutation = np.asarray(layout.flip_permutation)
        self.name = f"{getattr(runner, 'name', type(runner).__name__)}+mirror"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        n = len(batch)
        if n == 0:
            return self.runner(batch)
        both = np.concatenate([batch, batch[:, :, :, ::-1]], axis=0)
        maps = self.runner(np.ascontiguousarray(both))
        back = maps[n:][:, self.permutation, :, ::-1]
        return 0.5 * (maps[:n] + back)

    def __getattr__(self, attr: str):
        """Anything else (metadata, thread counts) is the wrapped runner's."""
        if attr == "runner":             # not set yet (a copy being built): no recursion
            raise AttributeError(attr)
        return getattr(self.runner, attr)
