"""The face-mesh trunk with ReLU in place of PReLU (ModelConfig.trunk_activation = "relu"), and
the fade from MediaPipe's PReLU slopes into it while training (core/face_mesh_net.FadingPReLU)."""
from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from core.config import ModelConfig
from core.face_mesh_net import FadingPReLU, load_trunk_weights, set_relu_fade
from core.model import MobileFAN, load_checkpoint, save_checkpoint
from core.onnx_graph import export_onnx
from tests.test_losses_and_training import tiny_corpus
from training.train import TrainConfig, TrainingError, TrainingRun, train

RELU_SMALL = ModelConfig(encoder="face_mesh", input_size=96, deconv_channels=8, trunk_activation="relu")


def test_fading_prelu_is_the_prelu_at_fade_one_and_a_relu_at_zero():
    slopes = torch.tensor([-0.9, 0.0, 0.25, 1.3])
    prelu = torch.nn.PReLU(4)
    prelu.weight.data.copy_(slopes)
    fading = FadingPReLU(4)
    fading.slope.copy_(slopes.view(1, 4, 1, 1))
    x = torch.linspace(-3, 3, 4 * 5).view(1, 4, 5, 1)
    fading.fade = 1.0
    assert torch.allclose(fading(x), prelu(x), atol=1e-7)
    fading.fade = 0.0
    assert torch.equal(fading(x), torch.relu(x))
    fading.fade = 0.5                                        # halfway: half the negative slope
    expected = torch.where(x > 0, x, 0.5 * slopes.view(1, 4, 1, 1) * x)
    assert torch.allclose(fading(x), expected, atol=1e-7)


def test_a_relu_trunk_started_from_mediapipe_is_mediapipes_trunk_at_fade_one():
    from training.tflite_weights import load_face_mesh_net
    state = load_face_mesh_net().trunk.state_dict()
    prelu = MobileFAN(ModelConfig(encoder="face_mesh", input_size=96, deconv_channels=8)).eval()
    prelu.encoder.load_state_dict(state)
    relu = MobileFAN(RELU_SMALL).eval()
    load_trunk_weights(relu.encoder, state)
    x = torch.rand(2, 3, 96, 96)
    with torch.no_grad():
        set_relu_fade(relu, 1.0)
        assert torch.allclose(relu.encoder(x), prelu.encoder(x), atol=1e-6)
        set_relu_fade(relu, 0.0)
        assert not torch.allclose(relu.encoder(x), prelu.encoder(x), atol=1e-2)
    # The slopes are only a starting point: a ReLU model's checkpoint carries none of them.
    assert not any("p_re_lu" in k for k in relu.state_dict())
    assert any("p_re_lu" in k for k in prelu.state_dict())


def test_the_relu_trunk_round_trips_and_exports_without_prelu_arithmetic(tmp_path):
    model = MobileFAN(RELU_SMALL).eval()
    save_checkpoint(model, tmp_path / "r.pt", half=False)
    loaded = load_checkpoint(tmp_path / "r.pt").model.eval()
    assert loaded.config.trunk_activation == "relu"
    x = torch.rand(1, 3, 96, 96) * 255
    with torch.no_grad():
        expected = model(x).numpy()
        assert np.allclose(loaded(x).numpy(), expected, atol=1e-6)
    data = export_onnx(loaded)
    ops = [n.op_type for n in onnx.load_from_string(data).graph.node]
    # A PReLU trunk exports 15 slope Muls (core/split_prelu.py); this one none, and a Relu per block.
    assert "PRelu" not in ops and ops.count("Mul") == 0 and ops.count("Relu") >= 15
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    assert np.allclose(session.run(None, {"image": x.numpy()})[0], expected, atol=1e-4)


def test_checkpoints_written_before_the_option_load_as_prelu_trunks():
    assert ModelConfig.from_dict({"encoder": "face_mesh", "input_size": 96}).trunk_activation == "prelu"
    with pytest.raises(ValueError, match="trunk_activation"):
        MobileFAN(ModelConfig(encoder="face_mesh", trunk_activation="swish"))
    with pytest.raises(ValueError, match="face_mesh"):
        MobileFAN(ModelConfig(encoder="mobilenetv2", trunk_activation="relu"))


def _relu_run(tmp_path, out, **kw):
    manifest = tmp_path / "manifest.jsonl"
    if not manifest.exists():
        tiny_corpus(tmp_path)                              # it appends: one corpus for every run of a test
    cfg = dict(data=str(manifest), out=str(tmp_path / out), epochs=2, epoch_size=8, batch_size=4, workers=0,
               threads=1, val_limit=2, model=RELU_SMALL, pretrained=True, relu_fade_epochs=1.0)
    cfg.update(kw)
    return TrainConfig(**cfg)


def test_training_fades_the_slopes_out_over_the_given_epochs_and_keeps_no_faded_weights(tmp_path):
    seen = []
    run = TrainingRun(_relu_run(tmp_path, "fade"))
    fading = next(m for m in run.model.modules() if isinstance(m, FadingPReLU))
    assert fading.slope.abs().sum() > 0                   # MediaPipe's slopes, to fade from
    step = run._step
    run._step = lambda *a, **k: (step(*a, **k), seen.append(fading.fade))[0]
    best = run.run()
    assert seen == [1.0, 0.5, 0.0, 0.0]                   # 2 steps an epoch, faded over the first
    log = [json.loads(line) for line in (tmp_path / "fade" / "log.jsonl").read_text().splitlines()]
    assert [r["relu_fade"] for r in log] == [0.0, 0.0]
    # The first epoch ended with its slopes gone, so both epochs may write best.pt: it is a ReLU model.
    assert load_checkpoint(best).model.config.trunk_activation == "relu"


def test_no_best_weights_are_kept_while_the_slopes_still_fade(tmp_path):
    best = train(_relu_run(tmp_path, "slow", epochs=2, relu_fade_epochs=1.5))
    log = [json.loads(line) for line in (tmp_path / "slow" / "log.jsonl").read_text().splitlines()]
    assert [r["relu_fade"] for r in log] == [0.3333, 0.0]  # 2 steps an epoch, 3 to fade: 1 - 2/3 after one
    assert load_checkpoint(best).meta["epoch"] == 2       # epoch 1 validated, but not kept


def test_fading_asks_for_a_relu_trunk_and_a_run_long_enough(tmp_path):
    with pytest.raises(TrainingError, match="trunk-activation relu"):
        TrainingRun(_relu_run(tmp_path, "bad", model=ModelConfig(encoder="face_mesh", input_size=96,
                                                                  deconv_channels=8)))
    with pytest.raises(TrainingError, match="longer than the run"):
        TrainingRun(_relu_run(tmp_path, "short", epochs=1, relu_fade_epochs=2.0))


def test_a_resumed_fade_continues_exactly(tmp_path):
    train(_relu_run(tmp_path, "full"))
    full = torch.load(tmp_path / "full" / "state.pt", weights_only=False)["model"]
    train(_relu_run(tmp_path, "split", max_steps=1))      # stopped mid-fade, slopes read again on resume
    train(_relu_run(tmp_path, "split"), resume=True)
    resumed = torch.load(tmp_path / "split" / "state.pt", weights_only=False)["model"]
    for key in full:
        assert torch.allclose(full[key].float(), resumed[key].float(), atol=1e-5), key
