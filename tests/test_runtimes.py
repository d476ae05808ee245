"""Every runtime computes the same heatmaps as eager PyTorch (within tolerance)."""
import numpy as np
import pytest
import torch

from core.config import ModelConfig
from core.export import export
from core.model import MobileFAN, load_checkpoint, save_checkpoint
from core.runtimes import RUNTIMES, TorchRunner, make_runner, onnx_metadata_sha, file_sha256


@pytest.fixture(scope="module")
def model_and_batch():
    torch.manual_seed(0)
    model = MobileFAN(ModelConfig(width=0.5, deconv_channels=32)).eval()
    # Give BatchNorm non-trivial statistics so the comparison means something.
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(8, 3, 128, 128) * 255)
    model.eval()
    batch = (np.random.default_rng(0).uniform(0, 255, (3, 3, 128, 128))).astype(np.float32)
    return model, batch


@pytest.mark.parametrize("runtime", ["torchscript", "onnxruntime", "opencv"])
def test_fp32_runtimes_match_pytorch(model_and_batch, runtime):
    model, batch = model_and_batch
    reference = TorchRunner(model)(batch)
    out = make_runner(model, runtime, threads=1)(batch)
    assert out.shape == reference.shape
    assert np.abs(out - reference).max() < 1e-3 * max(1.0, np.abs(reference).max())


def test_int8_runtime_is_close(model_and_batch):
    model, batch = model_and_batch
    calib = lambda: (np.random.default_rng(1).uniform(0, 255, (8, 3, 128, 128))).astype(np.float32)  # noqa: E731
    reference = TorchRunner(model)(batch)
    out = make_runner(model, "onnxruntime-int8", threads=1, calibration=calib)(batch)
    corr = np.corrcoef(out.ravel(), reference.ravel())[0, 1]
    assert corr > 0.95


def test_export_writes_files_tagged_with_the_checkpoint(tmp_path, model_and_batch):
    model, batch = model_and_batch
    path = tmp_path / "m.pt"
    save_checkpoint(model, path)
    fp32, int8 = export(path)
    assert fp32.name == "m.onnx" and int8.name == "m.int8.onnx"
    assert onnx_metadata_sha(fp32) == onnx_metadata_sha(int8) == file_sha256(path)
    loaded = load_checkpoint(path).model
    reference = TorchRunner(loaded)(batch)
    runner = make_runner(loaded, "onnxruntime", threads=1, checkpoint=path)
    assert np.abs(runner(batch) - reference).max() < 1e-3 * max(1.0, np.abs(reference).max())


def test_unknown_runtime():
    with pytest.raises(ValueError, match="unknown runtime"):
        make_runner(MobileFAN(ModelConfig(width=0.35, deconv_channels=16)), "tpu")


def test_runtime_list_is_complete():
    assert set(RUNTIMES) == {"torch", "torchscript", "onnxruntime", "onnxruntime-int8", "opencv"}


def test_int8_without_an_export_falls_back_to_exact_fp32(model_and_batch, tmp_path):
    model, batch = model_and_batch
    path = tmp_path / "noexport.pt"
    save_checkpoint(model, path, half=False)
    runner = make_runner(load_checkpoint(path).model, "onnxruntime-int8", threads=1, checkpoint=path)
    assert runner.name == "onnxruntime"
    reference = TorchRunner(model)(batch)
    assert np.abs(runner(batch) - reference).max() < 1e-3 * max(1.0, np.abs(reference).max())
