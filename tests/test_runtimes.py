"""Every runtime computes the same heatmaps as eager PyTorch (within tolerance)."""
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.config import RUNTIMES, ModelConfig
from core.model import MobileFAN, load_checkpoint, save_checkpoint
from core.runtimes import open_runner
from core.torch_runners import TorchRunner, make_runner
from core.weights import CHECKPOINT_KEY, CONFIG_KEY, file_sha256, onnx_metadata
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


@pytest.mark.parametrize("runtime", [r for r in RUNTIMES if r not in ("onnxruntime-int8", "auto")])
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
    meta32, meta8 = onnx_metadata(fp32.read_bytes()), onnx_metadata(int8.read_bytes())
    assert meta32[CHECKPOINT_KEY] == meta8[CHECKPOINT_KEY] == file_sha256(path)
    assert json.loads(meta8[CONFIG_KEY]) == json.loads(meta32[CONFIG_KEY]) == load_checkpoint(path).model.config.to_dict()
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


def test_an_export_runs_on_its_own_without_torch(exported, model_and_batch):
    """The default run's path: the checkpoint's config travels in its export, so opening it needs
    no torch (checked in a fresh interpreter), and it gives the eager model's heatmaps."""
    path, _ = exported
    model, batch = model_and_batch
    np.save(path.parent / "batch.npy", batch)
    code = ("import sys, numpy as np\n"
            "from pathlib import Path\n"
            "from core.runtimes import open_runner\n"
            f"runner, config = open_runner(Path({str(path)!r}), 'onnxruntime', threads=1, expected_points=68)\n"
            f"np.save({str(path.parent / 'out.npy')!r}, runner(np.load({str(path.parent / 'batch.npy')!r})))\n"
            "print(runner.name, config.width, config.deconv_channels, config.landmark_scale)\n"
            "sys.exit(1 if 'torch' in sys.modules else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert result.stdout.split() == ["onnxruntime", "0.5", "32", str(model.config.landmark_scale)]
    reference = TorchRunner(model)(batch)
    out = np.load(path.parent / "out.npy")
    assert np.abs(out - reference).max() < 1e-3 * max(1.0, np.abs(reference).max())


def test_an_export_without_a_config_is_not_used_without_the_checkpoint(exported, tmp_path):
    """An export made before configs travelled in it: the checkpoint (with torch) says how to use it."""
    import onnx
    path, (fp32, _) = exported
    proto = onnx.load_from_string(fp32.read_bytes())
    keep = [(p.key, p.value) for p in proto.metadata_props if p.key != CONFIG_KEY]
    del proto.metadata_props[:]
    for key, value in keep:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    old = tmp_path / "m.pt"
    old.write_bytes(path.read_bytes())
    (tmp_path / "m.onnx").write_bytes(proto.SerializeToString())
    runner, config = open_runner(old, "onnxruntime", threads=1)
    assert runner.name == "onnxruntime" and config == load_checkpoint(path).model.config


def test_auto_takes_the_int8_export_when_there_is_one_else_fp32_quietly(exported, model_and_batch, tmp_path):
    import warnings
    path, _ = exported
    model, batch = model_and_batch
    runner, _ = open_runner(path, "auto", threads=1)
    assert runner.name == "onnxruntime-int8"                          # default and small: their int8 file
    only_fp32 = tmp_path / "m.pt"
    only_fp32.write_bytes(path.read_bytes())
    (tmp_path / "m.onnx").write_bytes(path.with_suffix(".onnx").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                # no "no int8 export" warning
        runner, _ = open_runner(only_fp32, "auto", threads=1)
    assert runner.name == "onnxruntime"                               # accurate: it ships fp32 only
    reference = TorchRunner(model)(batch)
    assert np.abs(runner(batch) - reference).max() < 1e-3 * max(1.0, np.abs(reference).max())


def test_the_pipelines_spinning_setting_reaches_its_onnx_runtime_session(exported, tmp_path):
    """PipelineConfig.ort_spinning decides whether the face network's idle threads busy-wait, from
    the export beside the weights and from a checkpoint without one (exported from torch) alike."""
    from core.config import PipelineConfig
    from core.pipeline import LandmarkPipeline
    path, _ = exported
    bare = tmp_path / "bare.pt"                                       # no exports beside it
    bare.write_bytes(path.read_bytes())
    for (spinning, entry), weights in itertools.product(((True, "1"), (False, "0")), (path, bare)):
        pipe = LandmarkPipeline(PipelineConfig(weights=weights, runtime="onnxruntime", ort_spinning=spinning))
        try:
            options = pipe.predictor.runner.session.get_session_options()
            assert options.get_session_config_entry("session.intra_op.allow_spinning") == entry
        finally:
            pipe.close()
