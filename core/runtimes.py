"""Inference back-ends for MobileFAN: one interface, several runtimes.

Every runner takes a float32 (N, 3, S, S) batch of 0..255 RGB crops and
returns (N, points, S/4, S/4) heatmaps, so the pipeline does not care which
one runs. ONNX graphs are exported from the loaded PyTorch weights (in
memory, ~1-2 s) unless `python -m core.export` has written a matching
.onnx beside the checkpoint; the file records the checkpoint's hash so a
stale export is never used.

- torch:            eager PyTorch (reference)
- torchscript:      traced and frozen TorchScript
- onnxruntime:      ONNX Runtime, fp32
- onnxruntime-int8: ONNX Runtime, int8 static (QDQ) quantisation calibrated on face crops
- opencv:           OpenCV's DNN module reading the same ONNX graph
"""
from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch

from core.model import MobileFAN

RUNTIMES = ("torch", "torchscript", "onnxruntime", "onnxruntime-int8", "opencv")
ONNX_OPSET = 17


class HeatmapRunner(Protocol):
    name: str

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class RuntimeUnavailable(RuntimeError):
    pass


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def export_onnx(model: MobileFAN, target: str | Path | io.BytesIO, source_sha: str = "") -> None:
    """ONNX (opset 17) with a dynamic batch axis; records the checkpoint hash as metadata."""
    size = model.config.input_size
    example = torch.zeros(1, 3, size, size)
    buffer = io.BytesIO()
    torch.onnx.export(model.eval(), (example,), buffer, input_names=["image"], output_names=["heatmaps"],
                      dynamic_axes={"image": {0: "batch"}, "heatmaps": {0: "batch"}},
                      opset_version=ONNX_OPSET, dynamo=False)
    data = tag_with_checkpoint(buffer.getvalue(), source_sha) if source_sha else buffer.getvalue()
    if isinstance(target, io.BytesIO):
        target.write(data)
    else:
        Path(target).write_bytes(data)


def tag_with_checkpoint(onnx_bytes: bytes, source_sha: str) -> bytes:
    """Record which checkpoint an ONNX graph was made from, so a stale export is never used."""
    import onnx
    proto = onnx.load_from_string(onnx_bytes)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "mobilefan_checkpoint_sha256", source_sha
    return proto.SerializeToString()


def onnx_metadata_sha(path: Path) -> str:
    import onnx
    proto = onnx.load(str(path), load_external_data=False)
    return next((p.value for p in proto.metadata_props if p.key == "mobilefan_checkpoint_sha256"), "")


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
        cv2.setNumThreads(threads)
        self.net = cv2.dnn.readNetFromONNX(np.frombuffer(onnx_bytes, np.uint8))

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.net.setInput(batch)
        return self.net.forward()


def quantize_int8(onnx_bytes: bytes, calibration: np.ndarray) -> bytes:
    """Static int8 QDQ quantisation (per-channel weights), calibrated on real face crops.

    Dynamic quantisation only covers MatMul/Gemm; a convolutional network
    needs static activation ranges to gain anything.
    """
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"image": calibration[i:i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(onnx_bytes)
        quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return dst.read_bytes()


def _onnx_bytes(checkpoint: Path | None, suffix: str = ".onnx") -> bytes | None:
    """A matching pre-exported file beside the checkpoint, if there is one."""
    if checkpoint is None:
        return None
    exported = Path(checkpoint).with_suffix(suffix)
    if exported.exists():
        try:
            if onnx_metadata_sha(exported) == file_sha256(checkpoint):
                return exported.read_bytes()
        except Exception:  # noqa: BLE001 - an unreadable export is just ignored and redone
            return None
    return None


def make_runner(model: MobileFAN, runtime: str = "torch", threads: int = 2,
                checkpoint: Path | None = None,
                calibration: Callable[[], np.ndarray] | None = None) -> HeatmapRunner:
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    torch.set_num_threads(threads)
    if runtime == "torch":
        return TorchRunner(model)
    if runtime == "torchscript":
        return TorchScriptRunner(model)
    if runtime == "onnxruntime-int8":
        # A matching int8 file is all the default runtime needs: no fp32 export at start-up.
        int8 = _onnx_bytes(checkpoint, ".int8.onnx")
        if int8 is not None:
            return OnnxRuntimeRunner(int8, threads, name="onnxruntime-int8")
    data = _onnx_bytes(checkpoint)
    if data is None:
        buffer = io.BytesIO()
        export_onnx(model, buffer)
        data = buffer.getvalue()
    if runtime == "onnxruntime":
        return OnnxRuntimeRunner(data, threads)
    if runtime == "opencv":
        return OpenCvRunner(data, threads)
    if calibration is None:
        # Quantising needs calibration faces; without a matching pre-quantised file
        # (python -m core.export writes one) fp32 is the next fastest and exact.
        print(f"note: no int8 export matching {checkpoint}; using ONNX Runtime fp32 "
              f"(run python -m core.export to create it)", file=sys.stderr)
        return OnnxRuntimeRunner(data, threads)
    return OnnxRuntimeRunner(quantize_int8(data, calibration()), threads, name="onnxruntime-int8")
