"""The face mesh as a second opinion for 68 and 98 points (core/mesh_blend.py, training/mesh_map.py).

The reference for the shipped file is independent of it: the accurate network's own answer on a
real photo (a different network, trained on our labels), and the mesh's reading of the mirrored
photo."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.config import PipelineConfig, SmoothingConfig
from core.geometry import Crop
from core.landmarks import LAYOUT_68, LAYOUT_98, flip_points
from core.mesh_blend import UNBLENDED_POINTS, MeshBlend, mesh_blend_model
from core.metrics import nme
from core.pipeline import LandmarkPipeline
from core.weights import WeightsError

ROOT = Path(__file__).resolve().parent.parent


def test_the_map_fit_recovers_a_known_map_from_the_nearest_vertices():
    """Labels made from each point's own vertices by known weights come back from fit_map (the
    vertices' x and y interleaved in the dense matrix the export carries), also on new faces."""
    from training.mesh_map import MapFit, apply_map, fit_map
    rng = np.random.default_rng(0)
    k = 6
    # 68 tight clusters of k vertices, 30 px apart, the other vertices far away: each point's own
    # vertices are then exactly the k nearest to where it lies on average.
    centres = np.stack(np.meshgrid(np.arange(9), np.arange(8)), -1).reshape(-1, 2)[:68] * 30.0
    mean_mesh = np.full((468, 2), 5000.0) + rng.uniform(0, 100, (468, 2))
    mean_mesh[:68 * k] = np.repeat(centres, k, axis=0) + rng.uniform(-1, 1, (68 * k, 2))
    truth = []
    for j in range(68):
        own = np.arange(j * k, (j + 1) * k)
        w = np.zeros((2 * k, 2))
        w[0::2, 0] = rng.dirichlet(np.ones(k))              # x from the vertices' x (weights sum to 1)
        w[1::2, 1] = rng.dirichlet(np.ones(k))              # y from their y
        cross = rng.normal(0, 0.05, k)
        w[1::2, 0] += cross - cross.mean()                  # and a little of y in x, summing to 0
        truth.append((own, w, rng.normal(0, 1.0, 2)))

    def faces(n):
        meshes = mean_mesh + rng.normal(0, 3, (n, 468, 2))
        labels = np.stack([np.stack([m[own].reshape(-1) @ w + b for own, w, b in truth]) for m in meshes])
        return meshes, labels

    meshes, labels = faces(400)
    weights, bias = fit_map(meshes, labels, MapFit(neighbours=k, ridge=1e-6))
    fresh, expected = faces(20)
    assert np.abs(apply_map(fresh, weights, bias) - expected).max() < 1e-3
    assert (weights != 0).sum(axis=0).max() <= 2 * k      # each point reads only its own vertices


def test_the_export_runs_the_mesh_and_the_map_as_torch_does(tmp_path, astronaut):
    """The ONNX graph (the mesh network rewritten for ONNX Runtime's layout, and the map) gives the
    PyTorch module's points on real face crops."""
    import torch

    from core.geometry import crop_from_landmarks, warp_crop
    from core.mesh_blend import MeshBlendConfig
    from core.runtimes import OnnxRuntimeRunner
    from training.mesh_map import MeshToPoints, export
    from training.tflite_weights import load_face_mesh_net
    rng = np.random.default_rng(1)
    model = MeshToPoints(load_face_mesh_net(), rng.normal(0, 0.01, (936, 136)), rng.normal(0, 1, 136)).eval()
    cfg = MeshBlendConfig()
    path = export(model, cfg, tmp_path / "mesh.onnx")
    pipe = LandmarkPipeline(PipelineConfig(model="accurate", detector_range="full", mesh_blend=False))
    points = pipe.process(astronaut, still=True).faces[0].points
    crops = [crop_from_landmarks(points, LAYOUT_68, s) for s in (1.5, 1.7, 2.0)]
    batch = np.stack([warp_crop(astronaut, c, cfg.size) for c in crops]).transpose(0, 3, 1, 2).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy()
    got = OnnxRuntimeRunner(path.read_bytes(), 1, spinning=False)(batch)
    assert got.shape == (3, 68, 2)
    assert np.abs(got - expected).max() < 1e-2           # crop pixels; fp32 sums in another order
    assert MeshBlend(path).config == cfg                  # the framing travels in the metadata


def test_the_shipped_mesh_reads_a_real_face_as_the_accurate_network_does(astronaut):
    """Two independent networks on the same crop of a real photo land on the same 68 points, and the
    mesh's reading of the mirrored photo, flipped back, is the same face."""
    pipe = LandmarkPipeline(PipelineConfig(model="accurate", detector_range="full", mesh_blend=False, mirror=False))
    begun = pipe.begin(astronaut, 0.0, still=True)
    pred = pipe.run_network(begun).predictions[0]
    scale = pipe.model_config.landmark_scale
    blend = MeshBlend()
    (mesh,) = blend.read(astronaut, [pred.crop], scale)
    assert nme(mesh, pred.points, LAYOUT_68) < 0.05

    # The mirrored photo's crop is the mirror image of the crop.
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    w = astronaut.shape[1]
    c = pred.crop
    (from_mirror,) = blend.read(mirrored, [Crop(w - 1 - c.cx, c.cy, c.side, -c.angle)], scale)
    assert 0 < nme(flip_points(from_mirror, w, LAYOUT_68), mesh, LAYOUT_68) < 0.03
    # read both ways at once, the mirrored reading flipped back: the mean of the two
    (both,) = blend.read(astronaut, [c], scale, mirror=True)
    assert np.allclose(both, (mesh + flip_points(from_mirror, w, LAYOUT_68)) / 2, atol=0.05)

    (blended,) = blend.blend(astronaut, [pred.points], [pred.crop], scale)
    weight = blend.config.weight
    assert np.allclose(blended, (1 - weight) * pred.points + weight * mesh, atol=1e-4)


def test_the_mesh_crop_is_the_network_crop_widened():
    blend = MeshBlend()
    crop = Crop(100.0, 80.0, 135.0, 0.2)
    wide = blend.mesh_crop(crop, 1.35)
    assert (wide.cx, wide.cy, wide.angle) == (100.0, 80.0, 0.2)
    assert wide.side == pytest.approx(135.0 * blend.config.scale / 1.35)


def test_a_graph_without_the_framing_is_refused():
    with pytest.raises(WeightsError, match="not a mesh-blend model"):
        MeshBlend(ROOT / "weights" / "eyelids.onnx")


@pytest.mark.parametrize("config, every", [
    (PipelineConfig(model="accurate"), 1),
    (PipelineConfig(model="accurate", points=98), 1),
    (PipelineConfig(model="default", mesh_every=3), 3),            # carried between readings
    (PipelineConfig(model="default", points=98, mesh_every=3), 3),
    (PipelineConfig(model="default", mesh_every=5), 5),
    (PipelineConfig(model="small"), 30),                           # the speed model: once a second at 30 fps
    (PipelineConfig(model="small", mesh_every=4), 4),
    (PipelineConfig(model="accurate", mesh_every=4), 4),           # asked for: carried, not every frame
    (PipelineConfig(model="small", mesh_blend=True), 1),
    (PipelineConfig(model="default", mesh_blend=True), 1),
    (PipelineConfig(model="accurate", mesh_blend=False), 0),
    (PipelineConfig(model="default", mesh_blend=False), 0),
])
def test_how_often_a_video_frame_reads_the_mesh(config, every):
    assert config.mesh_interval() == every
    assert PipelineConfig(model="default").mesh_interval() > 1      # the default carries it by default
    assert PipelineConfig(model="small").mesh_interval() > PipelineConfig(model="default").mesh_interval()
    assert config.blends_mesh() is (every > 0)
    assert mesh_blend_model(config.points).is_file()


def test_a_mesh_interval_below_one_frame_is_refused():
    with pytest.raises(ValueError, match="mesh_every must be at least 1"):
        PipelineConfig(mesh_every=0)


@pytest.mark.parametrize("config, blends", [
    (PipelineConfig(model="default"), True),                     # photos: every 68-point model
    (PipelineConfig(model="small"), True),
    (PipelineConfig(model="accurate"), True),
    (PipelineConfig(model="default", points=98), True),
    (PipelineConfig(model="default", mesh_blend=False), False),  # --no-mesh-blend: no frame at all
])
def test_which_photos_blend(config, blends):
    assert config.blends_mesh(still=True) is blends


def test_small_blends_photos_and_reads_the_mesh_on_the_first_of_every_30_video_frames(astronaut, monkeypatch):
    """On a photo the small model's points are its network's moved half way to the mesh's reading of
    the same crop. On video the mesh reads a tracked face on its first frame and every 30th after."""
    blended = LandmarkPipeline(PipelineConfig(model="small", detector_range="full", eyelids=False, mirror=False))
    plain = LandmarkPipeline(PipelineConfig(model="small", detector_range="full", eyelids=False, mesh_blend=False,
                                            mirror=False))
    begun = plain.begin(astronaut, 0.0, still=True)                # the network, its second pass included
    pred = begun.predictions[0]
    (mesh,) = MeshBlend().read(astronaut, [pred.crop], plain.model_config.landmark_scale)
    photo = blended.process(astronaut, 0.0, still=True).faces[0].raw_points
    assert np.allclose(photo, (pred.points + mesh) / 2, atol=1e-3)
    assert nme(photo, pred.points, LAYOUT_68) > 0.002            # the mesh moved them

    reads = []
    real = MeshBlend.corrections

    def counted(self, *args, **kwargs):
        reads.append(len(reads))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(MeshBlend, "corrections", counted)
    video = LandmarkPipeline(PipelineConfig(model="small", detector_range="full", eyelids=False))
    counts = []                                                    # readings so far, after each frame
    for k in range(62):
        assert video.process(astronaut, k / 30).faces
        counts.append(len(reads))
    assert counts[0] == 1 and counts[29] == 1 and counts[30] == 2 and counts[59] == 2 and counts[60] == 3


def test_the_default_reads_the_mesh_every_third_frame_of_a_face_and_carries_it_between(astronaut, monkeypatch):
    """Seven video frames of one face: the mesh reads it on frames 0, 3 and 6; on the others the
    points are the network's moved by the last reading's correction, in that frame's own crop."""
    config = PipelineConfig(detector_range="full", eyelids=False, smoothing=SmoothingConfig(enabled=False),
                            mesh_every=3)
    pipe = LandmarkPipeline(config)
    reads = []
    real = MeshBlend.corrections

    def counted(self, rgb, faces, crops, *args, **kwargs):
        out = real(self, rgb, faces, crops, *args, **kwargs)
        reads.append(out[0])
        return out
    monkeypatch.setattr(MeshBlend, "corrections", counted)
    seen = []
    for k in range(7):
        begun = pipe.begin(astronaut, k / 30)
        network, crop = begun.predictions[0].points.copy(), begun.predictions[0].crop
        answer = pipe.finish(begun).faces[0].raw_points
        seen.append((len(reads), network, crop, answer))
    assert [n for n, *_ in seen] == [1, 1, 1, 2, 2, 2, 3]
    for k, (n, network, crop, answer) in enumerate(seen):
        expected = MeshBlend.apply(network, crop, reads[n - 1])
        assert np.allclose(answer, expected, atol=1e-3)
        if k % 3:                    # carried: the correction of another frame's crop, not re-read
            assert not np.allclose(answer, network, atol=0.05)


def test_a_mesh_that_will_not_open_leaves_faces_unblended_with_one_warning(astronaut, monkeypatch, tmp_path):
    import core.mesh_blend
    import core.pipeline
    damaged = tmp_path / "mesh68.onnx"
    damaged.write_bytes(b"half a graph")
    for module in (core.mesh_blend, core.pipeline):
        monkeypatch.setattr(module, "mesh_blend_model", lambda points=68: damaged)
    for model in ("default", "small"):         # the mesh opened at the start (carried on video)
        with pytest.warns(UserWarning, match="unblended by the face mesh.*mesh68.onnx.*not a readable ONNX file") \
                as caught:
            pipe = LandmarkPipeline(PipelineConfig(model=model, detector_range="full", eyelids=False))
            first = pipe.process(astronaut, still=True).faces[0].raw_points
            pipe.process(astronaut, 0.5)
            pipe.process(astronaut, still=True)
        assert len(caught) == 1
        plain = LandmarkPipeline(PipelineConfig(model=model, detector_range="full", eyelids=False, mesh_blend=False))
        assert np.array_equal(first, plain.process(astronaut, still=True).faces[0].raw_points)


def test_a_mesh_reading_of_another_layout_is_refused():
    with pytest.raises(WeightsError, match="reads the mesh as 68 points, not 98"):
        MeshBlend(mesh_blend_model(68), points=98)


def test_the_shipped_98_point_mesh_reads_a_real_face_as_the_98_point_network_does(astronaut):
    """weights/mesh98.onnx: the 98 points where the accurate 98-point network puts them on a real
    photo, and blended half way except the pupils, which the plain mesh has no iris for."""
    pipe = LandmarkPipeline(PipelineConfig(model="accurate", points=98, detector_range="full", mesh_blend=False,
                                           mirror=False))
    pred = pipe.begin(astronaut, 0.0, still=True).predictions[0]
    scale = pipe.model_config.landmark_scale
    blend = MeshBlend(points=98)
    (mesh,) = blend.read(astronaut, [pred.crop], scale)
    assert mesh.shape == (98, 2)
    assert nme(mesh, pred.points, LAYOUT_98) < 0.05
    (blended,) = blend.blend(astronaut, [pred.points], [pred.crop], scale)
    pupils = list(UNBLENDED_POINTS[98])
    assert pupils == [96, 97]
    assert np.array_equal(blended[pupils], pred.points[pupils])
    others = np.setdiff1d(np.arange(98), pupils)
    assert np.allclose(blended[others], (pred.points[others] + mesh[others]) / 2, atol=1e-4)


def test_the_cli_blends_98_points_when_asked(tmp_path, astronaut):
    from core.images import write_image
    write_image(tmp_path / "face.png", astronaut)
    out = tmp_path / "faces.csv"
    result = subprocess.run([sys.executable, "main.py", "--headless", "--source", str(tmp_path / "face.png"),
                             "--points", "98", "--mesh-blend", "--csv", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.read_text().count("\n") == 2                      # the header and the one face


@pytest.mark.parametrize("content, message", [(None, "is missing"), (b"not a graph", "not a readable ONNX file")])
def test_a_side_network_that_is_missing_or_damaged_is_one_clear_error(tmp_path, content, message):
    """The eyelid network or the mesh reading gone or damaged: a WeightsError naming the file (the
    command line prints it as one line), not a traceback from deep inside ONNX Runtime."""
    path = tmp_path / "side.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(WeightsError, match=message):
        MeshBlend(path)
    with pytest.raises(WeightsError, match=message):
        LandmarkPipeline(PipelineConfig(eyelid_weights=path))
