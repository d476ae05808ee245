"""Runners for a MobileFAN held in memory as a PyTorch module (imports torch).

For `--runtime torch|torchscript`, for a checkpoint that has no matching
export (the graph is then built in memory), and for training and evaluation,
which hold the model they are training. The default run never comes here
(core/runtimes.py opens the shipped int8 export without torch).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from core.model import MobileFAN
from core.onnx_graph import export_onnx
from core.runtimes import HeatmapRunner, OnnxRuntimeRunner, OpenCvRunner, check_runtime
from core.weights import matching_export


class TorchRunner:
    name = "torch"

    def __init__(self, model: MobileFAN) -> None:
        self.model = model.eval()
        # Training evaluates a model that lives on the GPU through this same runner.
        self.device = next(model.parameters()).device

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.model(torch.from_numpy(batch).to(self.device)).cpu().numpy()


class TorchScriptRunner(TorchRunner):
    name = "torchscript"

    def __init__(self, model: MobileFAN) -> None:
        size = model.config.input_size
        with torch.inference_mode():
            traced = torch.jit.trace(model.eval().cpu(), torch.zeros(1, 3, size, size))
        self.model = torch.jit.freeze(traced)
        self.device = torch.device("cpu")


def make_runner(model: MobileFAN, runtime: str = "torch", threads: int = 2,
                checkpoint: Path | None = None, spinning: bool = True, decode_in_graph: bool = False) -> HeatmapRunner:
    """A runner for `runtime` on a model in memory. ONNX runtimes use a matching export beside
    `checkpoint` when there is one; int8 needs one (quantising needs calibration faces), else
    it falls back to fp32 ONNX Runtime with a warning. `decode_in_graph`: ONNX Runtime runners
    decode the heatmaps in their graph (core/heatmap_graph.py)."""
    check_runtime(runtime)
    decode = model.config.heatmap_size if decode_in_graph else None
    if runtime == "auto":             # the shipped int8 export if it matches, else fp32, quietly
        int8 = matching_export(checkpoint, ".int8.onnx")
        if int8 is not None:
            return OnnxRuntimeRunner(int8.data, threads, name="onnxruntime-int8", spinning=spinning,
                                     decode_heatmap_size=decode)
        runtime = "onnxruntime"
    if runtime == "torch":
        return TorchRunner(model)
    if runtime == "torchscript":
        return TorchScriptRunner(model)
    if runtime == "onnxruntime-int8":
        int8 = matching_export(checkpoint, ".int8.onnx")
        if int8 is not None:
            return OnnxRuntimeRunner(int8.data, threads, name="onnxruntime-int8", spinning=spinning,
                                     decode_heatmap_size=decode)
        warnings.warn(f"no int8 export matching {checkpoint}; using ONNX Runtime fp32 "
                      f"(python -m training.export creates it)", RuntimeWarning, stacklevel=2)
        runtime = "onnxruntime"
    export = matching_export(checkpoint)
    data = export.data if export is not None else export_onnx(model)
    if runtime == "opencv":
        return OpenCvRunner(data, threads)
    return OnnxRuntimeRunner(data, threads, spinning=spinning, decode_heatmap_size=decode)
