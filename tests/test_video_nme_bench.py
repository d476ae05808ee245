"""bench/video_nme.py: how often each variant reads the mesh, and its refusals."""
import pytest

from bench.video_nme import config_for, main


@pytest.mark.parametrize("every", [0, 1, 3, 5])
def test_each_variant_reads_the_mesh_as_often_as_it_says(every):
    config = config_for("default", every)
    assert config.mesh_interval() == every
    assert not config.smoothing.enabled              # each frame's own points


@pytest.mark.parametrize("model", ["small", "accurate"])
@pytest.mark.parametrize("every", [0, 1, 30])
def test_every_model_can_be_asked_any_interval(model, every):
    assert config_for(model, every).mesh_interval() == every


def test_a_negative_interval_is_refused(tmp_path, capsys):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    assert main(["--videos", str(video), "--every", "-5"]) == 2
    assert "--every takes 0" in capsys.readouterr().err


def test_a_missing_video_is_refused_by_name(tmp_path, capsys):
    assert main(["--videos", str(tmp_path / "nope.mp4")]) == 2
    assert "nope.mp4" in capsys.readouterr().err
