"""The sub-pixel form of MobileFAN's decoder (core/subpixel_deconv.py) computes what the
trained deconvolutions compute: checked against torch's own ConvTranspose2d + BatchNorm +
ReLU on random weights and statistics, through a whole model, and through ONNX Runtime; the
shipped int8 graphs are made from it (no ConvTranspose left for ONNX Runtime to run in fp32)."""
import numpy as np
import onnx
import pytest
import torch
from torch import nn

from core.config import ModelConfig
from core.model import MobileFAN
from core.onnx_graph import export_onnx
from core.subpixel_deconv import subpixel_block, with_subpixel_decoder


def random_batchnorm(channels: int, generator: torch.Generator) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(channels)
    bn.weight.data = torch.rand(channels, generator=generator) + 0.5
    bn.bias.data = torch.randn(channels, generator=generator)
    bn.running_mean = torch.randn(channels, generator=generator)
    bn.running_var = torch.rand(channels, generator=generator) + 0.1
    return bn.eval()


@pytest.mark.parametrize("taps", [2, 3])
@pytest.mark.parametrize("cin,cout,size", [(3, 2, 5), (16, 8, 4), (32, 24, 7)])
def test_a_block_matches_torchs_deconvolution(cin, cout, size, taps):
    g = torch.Generator().manual_seed(cin)
    deconv = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False)
    deconv.weight.data = torch.randn(cin, cout, 4, 4, generator=g)
    bn = random_batchnorm(cout, g)
    x = torch.randn(2, cin, size, size + 1, generator=g)
    with torch.no_grad():
        expected = torch.relu(bn(deconv(x)))
        got = subpixel_block(deconv, bn, taps)(x)
    assert got.shape == expected.shape == (2, cout, 2 * size, 2 * (size + 1))
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4)
    assert (expected > 0).float().mean() > 0.2            # a real mix of active and clipped outputs


def test_other_deconvolutions_are_refused():
    bn = nn.BatchNorm2d(4).eval()
    with pytest.raises(ValueError):
        subpixel_block(nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, bias=False), bn)
    with pytest.raises(ValueError):
        subpixel_block(nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1, bias=True), bn)
    with pytest.raises(ValueError):
        subpixel_block(nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1, bias=False), bn, taps=4)


def random_model(config: ModelConfig) -> MobileFAN:
    g = torch.Generator().manual_seed(7)
    model = MobileFAN(config).eval()
    for block in model.deconvs:
        block[1].load_state_dict(random_batchnorm(block[1].num_features, g).state_dict())
    return model


@pytest.mark.parametrize("taps", [2, 3])
def test_a_whole_model_gives_the_same_heatmaps_and_is_left_untouched(taps):
    model = random_model(ModelConfig(width=0.5, input_size=64, deconv_channels=32))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rewritten = with_subpixel_decoder(model, taps)
    x = torch.rand(2, 3, 64, 64) * 255
    with torch.no_grad():
        expected, got = model(x), rewritten(x)
    assert torch.allclose(got, expected, atol=1e-4 * float(expected.abs().max()))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert isinstance(model.deconvs[0][0], nn.ConvTranspose2d)


def test_the_onnx_graph_has_no_deconvolution_and_runs_the_same_in_onnx_runtime():
    import onnxruntime as ort
    model = random_model(ModelConfig(width=0.5, input_size=64, deconv_channels=32))
    data = export_onnx(model, subpixel=True)
    ops = {node.op_type for node in onnx.load_from_string(data).graph.node}
    assert "ConvTranspose" not in ops and "DepthToSpace" in ops
    x = (np.random.default_rng(0).random((1, 3, 64, 64)) * 255).astype(np.float32)
    got = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert np.allclose(got, expected, atol=1e-4 * float(np.abs(expected).max()))
