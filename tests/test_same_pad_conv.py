"""The trunk's stride-2 SAME padding inside its convolutions (core/same_pad_conv.py)."""
import io

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.config import ModelConfig
from core.face_mesh_net import same_pad
from core.model import MobileFAN
from core.onnx_graph import export_onnx
from core.same_pad_conv import padded_inside, with_padding_in_convolutions


@pytest.mark.parametrize("groups", [1, 8])
@pytest.mark.parametrize("size", [6, 16, 64])
def test_a_4x4_kernel_padded_by_one_is_tensorflows_same_3x3_stride_2(groups, size):
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16 if groups == 1 else 8, 3, 2, 0, groups=groups)
    x = torch.randn(2, 8, size, size)
    # SAME by its definition for an even side: one row and column of zeros at the bottom and right.
    expected = conv(F.pad(x, (0, 1, 0, 1)))
    got = padded_inside(conv)(x)
    assert got.shape == expected.shape == (2, conv.out_channels, size // 2, size // 2)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(conv(same_pad(x, 2)), expected, atol=1e-6)      # what the trunk does now


def test_only_an_unpadded_3x3_stride_2_convolution_is_rewritten():
    with pytest.raises(ValueError):
        padded_inside(nn.Conv2d(4, 4, 3, 1, 1))


def _model(size: int) -> MobileFAN:
    torch.manual_seed(0)
    return MobileFAN(ModelConfig(encoder="face_mesh", input_size=size, deconv_channels=16)).eval()


def test_the_rewritten_trunk_gives_the_same_heatmaps_and_the_original_is_untouched():
    model = _model(128)
    rewritten = with_padding_in_convolutions(model, 128)
    assert all(b.depthwise.kernel_size == (3, 3) and b.pads_before_conv for b in model.encoder.trunk_blocks)
    assert sum(b.depthwise.kernel_size == (4, 4) and not b.pads_before_conv
               for b in rewritten.encoder.trunk_blocks) == 4                # the four stride-2 blocks
    assert rewritten.encoder.conv2d_1.kernel_size == (3, 3)                 # the stem keeps its Pad
    x = torch.rand(2, 3, 128, 128)
    with torch.no_grad():
        assert torch.allclose(rewritten(x), model(x), atol=1e-5)


def test_an_input_side_that_is_not_a_multiple_of_32_keeps_its_pads():
    # MobileFAN itself refuses such sides; the guard is for any other module holding the trunk.
    rewritten = with_padding_in_convolutions(_model(128), 112)
    assert all(b.pads_before_conv and b.depthwise.kernel_size == (3, 3) for b in rewritten.encoder.trunk_blocks)


def test_the_export_pads_only_at_the_stem_and_runs_the_same():
    model = _model(128)
    graph = export_onnx(model)
    ops = [node.op_type for node in onnx.load(io.BytesIO(graph)).graph.node]
    assert ops.count("Pad") == 1               # the stem's (the shortcuts' are 1x1 convolutions: core/widening_conv.py); 8 before
    x = np.random.default_rng(2).random((1, 3, 128, 128), dtype=np.float32)
    got = ort.InferenceSession(graph, providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    with torch.no_grad():
        assert np.abs(got - model(torch.from_numpy(x)).numpy()).max() < 1e-4
