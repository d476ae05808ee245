"""Inference back-ends for MobileFAN: one interface, several runtimes.

Every runner takes a float32 (N, 3, S, S) batch of 0..255 RGB crops and
returns (N, points, S/4, S/4) heatmaps, so the pipeline does not care which
one runs. ONNX graphs are exported from the loaded PyTorch weights (in
memory, ~1-2 s) unless `python -m training.export` has written a matching
.onnx beside the checkpoint; the file records the checkpoint's hash so a
stale export is never used.

- torch:            eager PyTorch (reference)
- torchscript:      traced and frozen TorchScript
- onnxruntime:      ONNX Runtime, fp32
- onnxruntime-int8: ONNX Runtime, int8 static (QDQ) quantisation calibrated on face crops
- opencv:           OpenCV's DNN module reading the same ONNX graph
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from core.config import RUNTIMES
from core.errors import MobileFANError
from core.model import MobileFAN
from core.onnx_graph import export_onnx, matching_export



class HeatmapRunner(Protocol):
    name: str

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class RuntimeUnavailable(MobileFANError):
    """An inference back-end that is not installed or cannot run this model."""


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


class OnnxRuntimeRunner:
    def __init__(self, onnx_bytes: bytes, threads: int, name: str = "onnxruntime") -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise RuntimeUnavailable("onnxruntime is not installed (pip install -r requirements.txt)") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3          # errors only: its graph-cleanup notes are noise
        self.session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.name = name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input: batch})[0]


class OpenCvRunner:
    name = "opencv"

    def __init__(self, onnx_bytes: bytes, threads: int) -> None:
        import cv2
        self.net = cv2.dnn.readNetFromONNX(np.frombuffer(onnx_bytes, np.uint8))

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.net.setInput(batch)
        return self.net.forward()


def make_runner(model: MobileFAN, runtime: str = "torch", threads: int = 2,
                checkpoint: Path | None = None) -> HeatmapRunner:
    """A runner for `runtime`. ONNX runtimes use a matching export beside
    `checkpoint` when there is one; int8 needs one (quantising needs
    calibration faces), else it falls back to fp32 ONNX Runtime with a warning."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    if runtime == "torch":
        return TorchRunner(model)
    if runtime == "torchscript":
        return TorchScriptRunner(model)
    if runtime == "onnxruntime-int8":
        int8 = matching_export(checkpoint, ".int8.onnx")
        if int8 is not None:
            return OnnxRuntimeRunner(int8, threads, name="onnxruntime-int8")
        warnings.warn(f"no int8 export matching {checkpoint}; using ONNX Runtime fp32 "
                      f"(python -m training.export creates it)", RuntimeWarning, stacklevel=2)
        runtime = "onnxruntime"
    data = matching_export(checkpoint) or export_onnx(model)
    if runtime == "opencv":
        return OpenCvRunner(data, threads)
    return OnnxRuntimeRunner(data, threads)
