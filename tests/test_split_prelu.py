"""PReLU as a * x + (1 - a) * relu(x) in the exported graphs (core/split_prelu.py)."""
import io

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from core.config import ModelConfig
from core.model import MobileFAN
from core.onnx_graph import export_onnx
from core.split_prelu import SplitPReLU, with_split_prelu


def test_split_prelu_is_prelu_for_slopes_of_every_sign():
    prelu = nn.PReLU(5)
    prelu.weight.data = torch.tensor([-0.94, 0.0, 0.25, 1.0, 1.28])  # the wheel's trunk has slopes outside [0, 1]
    x = torch.randn(3, 5, 7, 7) * 4
    expected = torch.where(x >= 0, x, prelu.weight.view(1, 5, 1, 1) * x)     # PReLU's definition
    assert torch.allclose(SplitPReLU(prelu)(x), expected, atol=1e-6)
    assert torch.allclose(prelu(x), expected, atol=1e-6)


def test_a_single_slope_prelu_is_split_too():
    prelu = nn.PReLU()                           # one slope for every channel
    prelu.weight.data.fill_(-0.5)
    x = torch.tensor([[-2.0, 0.0, 3.0]])
    assert SplitPReLU(prelu)(x).tolist() == [[1.0, 0.0, 3.0]]


def _face_mesh_model() -> MobileFAN:
    torch.manual_seed(0)
    model = MobileFAN(ModelConfig(encoder="face_mesh", input_size=128, deconv_channels=16)).eval()
    with torch.no_grad():
        for module in model.modules():         # slopes of every sign, as in the wheel (init is 0.25 everywhere)
            if isinstance(module, nn.PReLU):
                module.weight.uniform_(-1.0, 1.3)
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
    return model


def test_the_rewritten_model_gives_the_same_heatmaps_and_leaves_the_original_alone():
    model = _face_mesh_model()
    rewritten = with_split_prelu(model)
    assert any(isinstance(m, nn.PReLU) for m in model.modules())
    assert not any(isinstance(m, nn.PReLU) for m in rewritten.modules())
    assert sum(isinstance(m, SplitPReLU) for m in rewritten.modules()) == 15    # one per trunk PReLU
    x = torch.rand(2, 3, 128, 128)
    with torch.no_grad():
        assert torch.allclose(rewritten(x), model(x), atol=1e-5)


def test_the_exported_graph_has_no_prelu_and_onnx_runtime_agrees_with_torch():
    model = _face_mesh_model()
    graph = export_onnx(model)
    ops = {node.op_type for node in onnx.load(io.BytesIO(graph)).graph.node}
    assert "PRelu" not in ops and "Relu" in ops
    x = np.random.default_rng(1).random((2, 3, 128, 128), dtype=np.float32)
    session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": x})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    assert np.abs(got - want).max() < 1e-4


@pytest.mark.parametrize("name", ["mobilefan_68.onnx", "mobilefan_98.onnx", "mobilefan_68_accurate.onnx",
                                  "mobilefan_98_accurate.onnx"])
def test_the_shipped_face_mesh_graphs_have_no_prelu(name):
    from pathlib import Path
    graph = onnx.load(Path(__file__).resolve().parents[1] / "weights" / name)
    ops = [node.op_type for node in graph.graph.node]
    assert "PRelu" not in ops and "Conv" in ops
