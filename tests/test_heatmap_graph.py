"""Heatmap decoding inside the ONNX graph (core/heatmap_graph.py) gives decode_heatmaps' numbers,
and the pipeline uses it only where it should."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from core.config import PipelineConfig
from core.heatmap import decode_heatmaps
from core.heatmap_graph import OUTPUT, append_decoding
from core.pipeline import LandmarkPipeline
from core.runtimes import OnnxRuntimeRunner
from core.synthetic_video import astronaut_rgb, moving_face_frames


def identity_graph(points: int, size: int, declared: int | None = None, opset: int = 17) -> bytes:
    """A 'network' whose heatmaps are its input, so any maps can be fed to the decoding."""
    side = size if declared is None else declared
    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["heatmaps"])], "identity",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", points, side, side])],
        [helper.make_tensor_value_info("heatmaps", TensorProto.FLOAT, ["batch", points, side, side])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model.SerializeToString()


def decode_in_graph(maps: np.ndarray, opset: int = 17) -> np.ndarray:
    data = append_decoding(identity_graph(maps.shape[1], maps.shape[-1], opset=opset), maps.shape[-1])
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run([OUTPUT], {"image": maps})[0]


def gaussian_maps(faces: int, points: int, size: int, seed: int = 0) -> np.ndarray:
    """A noisy Gaussian peak a map, anywhere on it, a few on each edge and in each corner."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(0, size - 1, (faces * points, 2))
    centres[0:4] = (0, 0), (size - 1, size - 1), (0, size - 1), (size - 1, 0)        # corners
    centres[4:12:2, 0], centres[5:12:2, 1] = 0, size - 1                            # edges
    sigma = rng.uniform(0.8, 2.0, faces * points)[:, None, None]
    maps = np.exp(-((yy - centres[:, 1, None, None]) ** 2 + (xx - centres[:, 0, None, None]) ** 2)
                  / (2 * sigma ** 2))
    maps = maps + rng.normal(0, 0.03, maps.shape)
    return maps.reshape(faces, points, size, size).astype(np.float32)


@pytest.mark.parametrize("faces, points, size", [(1, 68, 24), (3, 68, 32), (2, 98, 32), (1, 68, 48)])
def test_the_graph_decodes_as_numpy_does_on_every_kind_of_peak(faces, points, size):
    maps = gaussian_maps(faces, points, size)
    found = decode_in_graph(maps)
    expected_points, expected_scores = decode_heatmaps(maps)
    assert found.shape == (faces, points, 3)
    assert np.abs(found[..., :2] - expected_points).max() < 1e-4
    assert np.array_equal(found[..., 2], expected_scores)
    # Not just the argmax: most points moved by the Newton step, as numpy's did.
    ys, xs = np.divmod(maps.reshape(faces, points, -1).argmax(-1), size)
    moved = np.abs(found[..., :2] - np.stack([xs, ys], -1)).max(-1) > 1e-3
    assert moved.mean() > 0.5


def test_flat_noisy_and_negative_maps_decode_alike():
    rng = np.random.default_rng(1)
    maps = np.stack([np.zeros((68, 24, 24)), rng.normal(0, 1, (68, 24, 24)), -np.ones((68, 24, 24))]
                    ).astype(np.float32)
    found = decode_in_graph(maps)
    expected_points, expected_scores = decode_heatmaps(maps)
    assert np.abs(found[..., :2] - expected_points).max() < 1e-4 and np.array_equal(found[..., 2], expected_scores)


def test_graphs_of_opset_18_take_the_reduction_axes_as_an_input():
    maps = gaussian_maps(1, 68, 24, seed=2)
    assert np.abs(decode_in_graph(maps, opset=18)[..., :2] - decode_heatmaps(maps)[0]).max() < 1e-4


def test_a_graph_that_does_not_answer_heatmaps_of_that_size_is_refused():
    with pytest.raises(ValueError, match="heatmaps"):
        append_decoding(identity_graph(68, 24), 32)
    with pytest.raises(ValueError, match="opset"):
        append_decoding(identity_graph(68, 24, opset=12), 24)


def test_the_shipped_small_model_decodes_in_its_graph_as_in_numpy():
    from bench.ort_settings import face_crops
    data = open("weights/mobilefan_68_small.onnx", "rb").read()
    plain = OnnxRuntimeRunner(data, 1)
    decoding = OnnxRuntimeRunner(data, 1, decode_heatmap_size=24)
    assert not plain.decodes_in_graph and decoding.decodes_in_graph
    crops = face_crops("small", 4)
    for crop in crops:
        heatmaps = plain(crop)
        expected_points, expected_scores = decode_heatmaps(heatmaps)
        found = decoding.decoded(crop)
        assert np.abs(found[..., :2] - expected_points).max() < 1e-4
        assert np.allclose(found[..., 2], expected_scores, atol=1e-6)
        assert np.allclose(decoding(crop), heatmaps, atol=1e-6)      # its heatmaps are still the network's
    with pytest.raises(RuntimeError, match="decode_heatmap_size"):
        plain.decoded(crops[0])


def test_the_pipeline_gives_the_same_landmarks_with_the_decoding_in_the_graph_or_in_numpy():
    """The same crops give the same points either way. (Over a tracked video they may part by a
    fraction of a pixel: each crop follows the last answer, so a float difference can tip a crop
    decision and the network then sees a slightly different crop.)"""
    from dataclasses import replace
    base = PipelineConfig(model="small", detector_range="full", eyelids=False)
    in_graph, in_numpy = LandmarkPipeline(base), LandmarkPipeline(replace(base, decode_in_graph=False))
    assert in_graph.predictor.runner.decodes_in_graph and not in_numpy.predictor.runner.decodes_in_graph
    compared = 0
    for frame in moving_face_frames(astronaut_rgb(), 6, (480, 360)):
        crops = [in_graph.detector.crop_for(d, in_graph.model_config.landmark_scale)
                 for d in in_graph.detector.detect(frame)]
        a, b = in_graph.predictor.predict(frame, crops), in_numpy.predictor.predict(frame, crops)
        assert len(a) == len(b) == len(crops) > 0
        for x, y in zip(a, b):
            assert np.abs(x.points - y.points).max() < 1e-3                  # frame pixels
            assert np.allclose(x.scores, y.scores, atol=1e-6)
            compared += 1
    first = [pipe.process(astronaut_rgb(), 0.0).faces[0].raw_points for pipe in (in_graph, in_numpy)]
    assert np.abs(first[0] - first[1]).max() < 1e-3 and compared >= 6
    in_graph.close()
    in_numpy.close()


def test_test_time_mirroring_keeps_decoding_the_averaged_heatmaps():
    """Mirroring averages heatmaps, so its runner (and the one it wraps) must hand heatmaps out."""
    pipe = LandmarkPipeline(PipelineConfig(model="small", mirror=True, detector_range="full", eyelids=False))
    assert not pipe.predictor.runner.decodes_in_graph
    assert not pipe.predictor.runner.runner.decodes_in_graph
    pipe.close()
