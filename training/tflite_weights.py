"""The weights of MediaPipe's face-landmark network, read from the installed mediapipe wheel.

`face_landmark.tflite` (mediapipe 0.10.21, Apache-2.0, (c) Google) stores its
weights as fp16 constants behind DEQUANTIZE ops. The PyPI `tflite` package
(the flatbuffer schema, pure Python) reads them; they are copied into
`core.face_mesh_net.FaceMeshNet` by layer name, transposed from TFLite's
layouts (conv kernels OHWI, depthwise kernels 1HWC) to PyTorch's (OIHW).
Nothing is downloaded: the file is part of the installed wheel.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from core.errors import MobileFANError
from core.face_mesh_net import FaceMeshNet, tflite_names

FACE_LANDMARK_TFLITE = "modules/face_landmark/face_landmark.tflite"


class TfliteError(MobileFANError):
    """The mediapipe wheel's model file is missing or not the graph this port expects."""


def face_landmark_path() -> Path:
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or spec.origin is None:
        raise TfliteError("mediapipe is not installed (pip install -r requirements.txt)")
    path = Path(spec.origin).parent / FACE_LANDMARK_TFLITE
    if not path.is_file():
        raise TfliteError(f"{path} is missing: mediapipe 0.10.21 ships it (later releases ship no models)")
    return path


def read_layers(path: Path | None = None) -> dict[str, dict[str, np.ndarray]]:
    """{layer name: {"Kernel" | "Bias" | "Alpha": float32 array in TFLite's layout}}."""
    import tflite
    data = Path(path or face_landmark_path()).read_bytes()
    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    dequantize = tflite.BuiltinOperator.DEQUANTIZE
    source = {}                                   # dequantized tensor -> its fp16 constant
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) == dequantize:
            source[op.Outputs(0)] = op.Inputs(0)
    dtypes = {tflite.TensorType.FLOAT16: np.float16, tflite.TensorType.FLOAT32: np.float32}
    layers: dict[str, dict[str, np.ndarray]] = {}
    for index in range(graph.TensorsLength()):
        name = graph.Tensors(index).Name().decode()
        if "/" not in name:
            continue
        layer, kind = name.split("/", 1)
        kind = kind.replace("_dequantize", "")
        if kind not in ("Kernel", "Bias", "Alpha"):
            continue
        const = graph.Tensors(source.get(index, index))
        raw = model.Buffers(const.Buffer()).DataAsNumpy()
        if not isinstance(raw, np.ndarray) or const.Type() not in dtypes:
            continue                              # the fp32 twin of a dequantized constant has no data
        array = np.frombuffer(raw.tobytes(), dtypes[const.Type()]).astype(np.float32)
        layers.setdefault(layer, {})[kind] = array.reshape(const.ShapeAsNumpy())
    return layers


def load_face_mesh_net(path: Path | None = None) -> FaceMeshNet:
    """FaceMeshNet with the wheel's weights; every parameter is filled, or TfliteError says which not."""
    net = FaceMeshNet()
    layers = read_layers(path)
    state = {}
    for prefix, layer in tflite_names().items():
        if layer not in layers:
            raise TfliteError(f"{layer} is not in the TFLite graph: not the face-landmark model this port knows")
        found = layers[layer]
        if "Alpha" in found:                                           # PReLU: (1, 1, C)
            state[f"{prefix}.weight"] = torch.from_numpy(found["Alpha"].reshape(-1))
            continue
        kernel = found["Kernel"]
        depthwise = prefix.endswith("depthwise")
        state[f"{prefix}.weight"] = torch.from_numpy(
            kernel.transpose(3, 0, 1, 2) if depthwise else kernel.transpose(0, 3, 1, 2)).contiguous()
        state[f"{prefix}.bias"] = torch.from_numpy(found["Bias"])
    missing = set(net.state_dict()) - set(state)
    if missing:
        raise TfliteError(f"no TFLite weights for {sorted(missing)[:3]}")
    net.load_state_dict(state)
    return net.eval()
