"""Inference back-ends for MobileFAN: one interface, several runtimes, and how a checkpoint
becomes a runner.

Every runner takes a float32 (N, 3, S, S) batch of 0..255 RGB crops and
returns (N, points, S/4, S/4) heatmaps, so the pipeline does not care which
one runs.

- torch:            eager PyTorch (reference)
- torchscript:      traced and frozen TorchScript
- onnxruntime:      ONNX Runtime, fp32
- onnxruntime-int8: ONNX Runtime, int8 static (QDQ) quantisation calibrated on face crops
- opencv:           OpenCV's DNN module reading the same ONNX graph
- auto (default):   whichever export ships beside the weights: int8 if there is one, else fp32
                    (every shipped model ships fp32 only: int8 was no faster on their face-mesh trunk)

An ONNX Runtime runner opened with `decode_heatmap_size` also decodes the heatmaps inside its
graph (core/heatmap_graph.py): its `decoded(batch)` gives (N, points, 3) x, y in heatmap pixels
and peak scores, the numbers core/heatmap.decode_heatmaps gives, in one call
(`decodes_in_graph` says whether a runner can; LandmarkPredictor asks).

`open_runner` takes the ONNX Runtime back-ends from the exports beside the
checkpoint (core/weights.py), reading the model's config from the export
itself: no torch is imported. Only `torch`/`torchscript`, or a checkpoint
with no matching export, go through core/torch_runners.py (torch).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import numpy as np

from core.config import RUNTIMES, ModelConfig
from core.errors import MobileFANError
from core.weights import WeightsError, export_config, export_path, onnx_metadata


class HeatmapRunner(Protocol):
    name: str

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class RuntimeUnavailable(MobileFANError):
    """An inference back-end that is not installed or cannot run this model."""


def check_runtime(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")


class OnnxRuntimeRunner:
    def __init__(self, onnx_bytes: bytes, threads: int, name: str = "onnxruntime", spinning: bool = True,
                 decode_heatmap_size: int | None = None) -> None:
        """`spinning`: ORT's idle threads busy-wait for the next call: fastest for a network called
        in a tight loop (bench/ort_settings.py), but in the app the spinning threads take the cores
        that decoding and the Python between calls need, so the pipeline turns it off
        (PipelineConfig.ort_spinning, bench/read_ahead.py); a small second network beside the
        face network never spins. `decode_heatmap_size`: the model's heatmap side, to decode its
        heatmaps in the graph (`decoded`); the graph then runs the decoding on every call,
        `__call__`'s too, so only a runner whose caller wants points should have it."""
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise RuntimeUnavailable("onnxruntime is not installed (pip install -r requirements.txt)") from exc
        self.decodes_in_graph = decode_heatmap_size is not None
        if self.decodes_in_graph:
            from core.heatmap_graph import OUTPUT, append_decoding
            onnx_bytes = append_decoding(onnx_bytes, decode_heatmap_size)
            self.points_output = OUTPUT
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3          # errors only: its graph-cleanup notes are noise
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        self.session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.output = self.session.get_outputs()[0].name
        self.name = name

    @property
    def metadata(self) -> dict[str, str]:
        """The graph's metadata (the checkpoint hash and config an export carries)."""
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run([self.output], {self.input: batch})[0]

    def decoded(self, batch: np.ndarray) -> np.ndarray:
        """(N, points, 3): each landmark's x, y in heatmap pixels and its peak score."""
        if not self.decodes_in_graph:
            raise RuntimeError("this runner was opened without decode_heatmap_size")
        return self.session.run([self.points_output], {self.input: batch})[0]


def open_side_network(path: Path, config_key: str, what: str) -> tuple[OnnxRuntimeRunner, dict]:
    """A small network that runs beside the face network (the eyelids, the mesh blend): one
    thread, never spinning, so that the face network keeps the cores; and the JSON config its
    export carries under `config_key` (how it frames its input). WeightsError naming `what` for a
    file that is missing, unreadable or not such a network."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path} is missing: {what} ships in weights/ (see weights/MODEL_CARD.md)")
    try:
        runner = OnnxRuntimeRunner(path.read_bytes(), 1, name=path.stem, spinning=False)
    except RuntimeUnavailable:
        raise
    except Exception as exc:        # ONNX Runtime's load errors derive from Exception only
        raise WeightsError(f"{path} is not a readable ONNX file ({exc})") from None
    meta = runner.metadata
    if config_key not in meta:
        raise WeightsError(f"{path} is not {what} (no {config_key} in its metadata)")
    return runner, json.loads(meta[config_key])


class OpenCvRunner:
    name = "opencv"

    def __init__(self, onnx_bytes: bytes, threads: int) -> None:
        import cv2
        self.net = cv2.dnn.readNetFromONNX(np.frombuffer(onnx_bytes, np.uint8))

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.net.setInput(batch)
        return self.net.forward()


def open_export_runner(checkpoint: Path, suffix: str, threads: int, name: str, spinning: bool = True,
                       decode_in_graph: bool = False) -> tuple[OnnxRuntimeRunner, ModelConfig] | None:
    """ONNX Runtime on the export beside `checkpoint`, with the config it carries; None if there
    is none, or it was made from other weights, or it predates configs in exports."""
    path = export_path(checkpoint, suffix)
    if not path.is_file():
        return None
    try:
        data = path.read_bytes()
        if decode_in_graph:                 # the heatmap size first: the decoding is built into the session
            config = export_config(onnx_metadata(data), checkpoint)
            runner = OnnxRuntimeRunner(data, threads, name=name, spinning=spinning,
                                       decode_heatmap_size=config.heatmap_size) if config is not None else None
        else:
            runner = OnnxRuntimeRunner(data, threads, name=name, spinning=spinning)
            config = export_config(runner.metadata, checkpoint)
    except RuntimeUnavailable:
        raise
    except Exception:  # noqa: BLE001 - an unreadable export is ignored (and rebuilt from the checkpoint)
        return None
    return (runner, config) if config is not None else None


def open_runner(checkpoint: Path, runtime: str, threads: int, expected_points: int | None = None,
                spinning: bool = True, decode_in_graph: bool = False) -> tuple[HeatmapRunner, ModelConfig]:
    """The runner for a checkpoint file and the config its model was trained with.

    The ONNX Runtime back-ends use the exports beside the checkpoint without
    torch. Missing or stale exports, the torch back-ends and OpenCV load the
    checkpoint with torch (int8 then falls back to fp32 with a warning: its
    calibration needs face crops, `python -m training.export` makes it).
    `decode_in_graph`: an ONNX Runtime runner decodes the heatmaps too (the others cannot)."""
    from core.weights import WeightsError, check_points
    check_runtime(runtime)
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise WeightsError(f"weights file not found: {checkpoint}")
    for wanted, suffix in (("onnxruntime-int8", ".int8.onnx"), ("onnxruntime", ".onnx")):
        if runtime in (wanted, "auto"):
            found = open_export_runner(checkpoint, suffix, threads, wanted, spinning, decode_in_graph)
            if found is not None:
                check_points(found[1], checkpoint, expected_points)
                return found
    from core.model import load_checkpoint
    from core.torch_runners import make_runner
    model = load_checkpoint(checkpoint, expected_points=expected_points).model
    return make_runner(model, runtime, threads, checkpoint, spinning, decode_in_graph), model.config
