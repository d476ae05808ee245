import pytest
import torch

from core.config import ModelConfig
from core.model import MobileFAN, WeightsError, count_parameters, load_checkpoint, save_checkpoint


@pytest.mark.parametrize("points", [68, 98])
@pytest.mark.parametrize("size", [128, 256])
def test_heatmap_and_feature_shapes(points, size):
    model = MobileFAN(ModelConfig(num_points=points, input_size=size, width=0.5, deconv_channels=32)).eval()
    with torch.no_grad():
        heatmaps, feats = model.forward_with_features(torch.rand(2, 3, size, size) * 255)
    assert heatmaps.shape == (2, points, size // 4, size // 4)
    assert [f.shape[-1] for f in feats] == [size // 16, size // 8, size // 4]
    assert all(f.shape[1] == 32 for f in feats)


def test_teacher_is_much_larger_than_student():
    student = count_parameters(MobileFAN(ModelConfig()))
    teacher = count_parameters(MobileFAN(ModelConfig(width=1.4, deconv_channels=256)))
    assert teacher > 2 * student


def test_checkpoint_round_trip_records_config(tmp_path):
    cfg = ModelConfig(num_points=98, input_size=256, width=0.5, deconv_channels=48)
    model = MobileFAN(cfg).eval()
    path = tmp_path / "m.pt"
    save_checkpoint(model, path, meta={"note": "x"}, half=False)
    loaded = load_checkpoint(path)
    assert loaded.model.config == cfg and loaded.meta["note"] == "x"
    x = torch.rand(1, 3, 256, 256) * 255
    with torch.no_grad():
        assert torch.allclose(model(x), loaded.model(x), atol=1e-5)


def test_fp16_storage_keeps_outputs_close(tmp_path):
    model = MobileFAN(ModelConfig(width=0.5, deconv_channels=32)).eval()
    save_checkpoint(model, tmp_path / "h.pt", half=True)
    x = torch.rand(1, 3, 128, 128) * 255
    with torch.no_grad():
        diff = (model(x) - load_checkpoint(tmp_path / "h.pt").model(x)).abs().max()
    assert diff < 1e-2


def test_missing_weights_error_names_file(tmp_path):
    with pytest.raises(WeightsError, match="nope.pt"):
        load_checkpoint(tmp_path / "nope.pt")


def test_corrupt_weights_error_names_file(tmp_path):
    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(WeightsError, match="corrupt.pt"):
        load_checkpoint(bad)


def test_foreign_checkpoint_is_rejected(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(WeightsError, match="not a MobileFAN checkpoint"):
        load_checkpoint(path)


def test_wrong_point_count_is_rejected(tmp_path, tiny_weights):
    with pytest.raises(WeightsError, match="68 points, but 98"):
        load_checkpoint(tiny_weights, expected_points=98)


def test_truncated_checkpoint_is_rejected(tmp_path, tiny_weights):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(tiny_weights.read_bytes()[:5000])
    with pytest.raises(WeightsError, match="cut.pt"):
        load_checkpoint(cut)


def test_non_finite_weights_are_refused_naming_the_file(tmp_path):
    model = MobileFAN(ModelConfig(width=0.35, deconv_channels=16))
    with torch.no_grad():
        model.head.weight[0, 0, 0, 0] = float("nan")
    path = tmp_path / "diverged.pt"
    save_checkpoint(model, path)
    with pytest.raises(WeightsError, match="diverged.pt.*non-finite"):
        load_checkpoint(path)


def test_checkpoint_records_the_crop_framing_and_old_ones_get_the_shipped_framing(tmp_path):
    model = MobileFAN(ModelConfig(width=0.35, deconv_channels=16, landmark_scale=1.5, heatmap_sigma=2.0))
    save_checkpoint(model, tmp_path / "framed.pt")
    loaded = load_checkpoint(tmp_path / "framed.pt").model.config
    assert loaded.landmark_scale == 1.5 and loaded.heatmap_sigma == 2.0
    payload = torch.load(tmp_path / "framed.pt", weights_only=True)
    del payload["model_config"]["landmark_scale"]           # as written before the field existed
    torch.save(payload, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt").model.config.landmark_scale == 1.35


def test_the_face_mesh_encoder_starts_from_mediapipes_trunk_and_round_trips(tmp_path):
    """`encoder="face_mesh"` (the teacher, --model accurate): MediaPipe's trunk at 192 px under
    MobileFAN's decoder; the trunk's features are the wheel's network's own, and the config
    travels in the checkpoint."""
    from training.tflite_weights import load_face_mesh_net
    cfg = ModelConfig(encoder="face_mesh", input_size=192, deconv_channels=32)
    model = MobileFAN(cfg).eval()
    net = load_face_mesh_net()
    model.encoder.load_state_dict(net.trunk.state_dict())
    x = torch.rand(2, 3, 192, 192) * 255
    with torch.no_grad():
        heatmaps, feats = model.forward_with_features(x)
        # MobileFAN feeds the trunk 0..255 / 255: exactly what MediaPipe's network sees.
        assert torch.allclose(model.encoder((x - model.mean) / model.std), net.trunk(x / 255), atol=1e-5)
    assert heatmaps.shape == (2, 68, 48, 48) and [f.shape[-1] for f in feats] == [12, 24, 48]
    save_checkpoint(model, tmp_path / "t.pt", half=False)
    loaded = load_checkpoint(tmp_path / "t.pt").model
    assert loaded.config == cfg and loaded.config.encoder == "face_mesh"
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-5)


def test_an_unknown_encoder_is_refused():
    with pytest.raises(ValueError, match="encoder"):
        MobileFAN(ModelConfig(encoder="resnet"))
