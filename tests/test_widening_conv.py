"""The trunk's zero-padded shortcut channels as a fixed 1x1 convolution (core/widening_conv.py)."""
import io

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from core.config import ModelConfig
from core.face_mesh_net import Block
from core.model import MobileFAN
from core.onnx_graph import export_onnx
from core.widening_conv import widening, with_widening_convolutions


def test_widening_copies_the_channels_and_appends_zero_channels():
    x = torch.randn(2, 16, 5, 5)
    expected = F.pad(x, (0, 0, 0, 0, 0, 16))              # the trunk's shortcut: zeros after the 16 channels
    got = widening(16, 32)(x)
    assert got.shape == (2, 32, 5, 5)
    assert torch.equal(got, expected)                    # 1.0 x one input plus zeros: exact


def test_a_widening_convolution_cannot_narrow():
    with pytest.raises(ValueError, match="narrow"):
        widening(32, 16)


def _model(activation: str) -> MobileFAN:
    torch.manual_seed(0)
    return MobileFAN(ModelConfig(encoder="face_mesh", input_size=128, deconv_channels=16,
                                 trunk_activation=activation)).eval()


@pytest.mark.parametrize("activation", ["prelu", "relu"])
def test_the_rewritten_model_gives_the_same_heatmaps_and_the_original_is_untouched(activation):
    model = _model(activation)
    rewritten = with_widening_convolutions(model)
    widened = [b for b in rewritten.encoder.trunk_blocks if b.widen is not None]
    assert [(b.widen.in_channels, b.widen.out_channels) for b in widened] == [(16, 32), (32, 64), (64, 128)]
    assert all(b.widen is None for b in model.encoder.trunk_blocks)
    assert not any(isinstance(m, Block) and m.widen is not None for m in model.modules())
    x = torch.rand(2, 3, 128, 128)
    with torch.no_grad():
        assert torch.equal(rewritten(x), model(x))


def test_the_export_pads_only_at_the_stem_and_runs_the_same():
    model = _model("relu")
    graph = export_onnx(model)
    ops = [node.op_type for node in onnx.load(io.BytesIO(graph)).graph.node]
    assert ops.count("Pad") == 1                         # the stem's; the shortcuts' three are convolutions
    x = np.random.default_rng(3).random((1, 3, 128, 128), dtype=np.float32)
    got = ort.InferenceSession(graph, providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    with torch.no_grad():
        assert np.abs(got - model(torch.from_numpy(x)).numpy()).max() < 1e-4
