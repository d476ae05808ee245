"""Every runtime computes the same heatmaps as eager PyTorch (within tolerance)."""
import numpy as np
import pytest
import torch

from core.config import ModelConfig
from core.model import MobileFAN, load_checkpoint, save_checkpoint
from core.onnx_graph import file_sha256, onnx_metadata_sha
from core.runtimes import RUNTIMES, TorchRunner, make_runner
from training.export import export


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


@pytest.fixture(scope="module")
def exported(model_and_batch, tmp_path_factory):
    model, _ = model_and_batch
    path = tmp_path_factory.mktemp("export") / "m.pt"
    save_checkpoint(model, path)
    return path, export(path)


@pytest.mark.parametrize("runtime", [r for r in RUNTIMES if r != "onnxruntime-int8"])
def test_fp32_runtimes_match_pytorch(model_and_batch, runtime):
    model, batch = model_and_batch
    reference = TorchRunner(model)(batch)
    runner = make_runner(model, runtime, threads=1)
    out = runner(batch)
    assert runner.name == runtime
    assert out.shape == reference.shape == (3, 68, 32, 32)
    assert np.abs(out - reference).max() < 1e-3 * max(1.0, np.abs(reference).max())


def test_export_writes_files_tagged_with_the_checkpoint(exported, model_and_batch):
    path, (fp32, int8) = exported
    _, batch = model_and_batch
    assert fp32.name == "m.onnx" and int8.name == "m.int8.onnx"
    assert onnx_metadata_sha(fp32) == onnx_metadata_sha(int8) == file_sha256(path)
    loaded = load_checkpoint(path).model
    reference = TorchRunner(loaded)(batch)
    runner = make_runner(loaded, "onnxruntime", threads=1, checkpoint=path)
    assert np.abs(runner(batch) - reference).max() < 1e-3 * max(1.0, np.abs(reference).max())


def test_int8_runtime_uses_the_export_and_stays_close(exported, model_and_batch):
    path, _ = exported
    _, batch = model_and_batch
    loaded = load_checkpoint(path).model
    runner = make_runner(loaded, "onnxruntime-int8", threads=1, checkpoint=path)
    assert runner.name == "onnxruntime-int8"
    reference = TorchRunner(loaded)(batch)
    corr = np.corrcoef(runner(batch).ravel(), reference.ravel())[0, 1]
    assert corr > 0.95


def test_a_stale_export_is_not_used(exported, tmp_path):
    """Other weights beside an old export: the export's hash does not match, so it is ignored."""
    path, _ = exported
    other = tmp_path / "m.pt"
    save_checkpoint(MobileFAN(ModelConfig(width=0.5, deconv_channels=32)), other)
    (tmp_path / "m.int8.onnx").write_bytes(path.with_suffix(".int8.onnx").read_bytes())
    with pytest.warns(RuntimeWarning, match="no int8 export"):
        runner = make_runner(load_checkpoint(other).model, "onnxruntime-int8", threads=1, checkpoint=other)
    assert runner.name == "onnxruntime"


def test_unknown_runtime():
    with pytest.raises(ValueError, match="unknown runtime"):
        make_runner(MobileFAN(ModelConfig(width=0.35, deconv_channels=16)), "tpu")


def test_int8_without_an_export_falls_back_to_exact_fp32(model_and_batch, tmp_path):
    model, batch = model_and_batch
    path = tmp_path / "noexport.pt"
    save_checkpoint(model, path, half=False)
    with pytest.warns(RuntimeWarning, match="no int8 export"):
        runner = make_runner(load_checkpoint(path).model, "onnxruntime-int8", threads=1, checkpoint=path)
    assert runner.name == "onnxruntime"
    reference = TorchRunner(model)(batch)
    assert np.abs(runner(batch) - reference).max() < 1e-3 * max(1.0, np.abs(reference).max())
