"""The PyTorch port of MediaPipe's face-landmark network matches the TFLite graph it was read from."""
import cv2
import numpy as np
import pytest
import torch

from core.synthetic_video import astronaut_rgb
from training.tflite_weights import face_landmark_path, load_face_mesh_net, read_layers


@pytest.fixture(scope="module")
def crops():
    """Real face crops at the network's 192 px: the astronaut's face turned in the image plane,
    framed tight and loose, shifted, in [0, 1] as the network takes them."""
    photo = astronaut_rgb()
    out = []
    for angle, side, dx in ((0, 220, 0), (-15, 240, 8), (15, 200, -8), (25, 260, 0), (-8, 180, 12), (5, 250, -10)):
        m = cv2.getRotationMatrix2D((240.0, 125.0), angle, 192.0 / side)
        m[:, 2] += np.array([96.0 + dx, 96.0]) - np.array([240.0, 125.0])
        patch = cv2.warpAffine(photo, m, (192, 192), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        out.append(patch.astype(np.float32) / 255)
    return np.stack(out)


def tflite_outputs(crops):
    from tflite_runtime.interpreter import Interpreter
    interpreter = Interpreter(model_path=str(face_landmark_path()))
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]["index"]
    outputs = {d["name"]: d["index"] for d in interpreter.get_output_details()}
    mesh, flag = [], []
    for crop in crops:
        interpreter.set_tensor(source, crop[None])
        interpreter.invoke()
        mesh.append(interpreter.get_tensor(outputs["conv2d_21"]).reshape(-1))
        flag.append(interpreter.get_tensor(outputs["conv2d_31"]).reshape(-1))
    return np.stack(mesh), np.stack(flag)


def test_the_port_gives_the_tflite_graphs_1404_outputs_on_real_faces(crops):
    net = load_face_mesh_net()
    with torch.no_grad():
        mesh, flag = net(torch.from_numpy(crops).permute(0, 3, 1, 2))
    ref_mesh, ref_flag = tflite_outputs(crops)
    assert mesh.shape == ref_mesh.shape == (len(crops), 1404)
    # Both compute in fp32 from the same fp16 weights: the differences are rounding, ~1e-4 px.
    assert np.abs(mesh.numpy() - ref_mesh).max() < 0.01
    assert np.abs(flag.numpy() - ref_flag).max() < 1e-3
    # And the answer is a face: the mesh spans most of the crop, the flag says "face".
    points = ref_mesh.reshape(len(crops), 468, 3)
    assert (np.ptp(points[:, :, 0], axis=1) > 80).all() and (ref_flag > 0).all()


def test_every_weight_comes_from_the_wheel_and_a_wrong_one_shows():
    """Not a near miss hidden by tolerance: disturbing one layer's weights moves the mesh."""
    net = load_face_mesh_net()
    layers = read_layers()
    assert len(layers) > 60 and layers["conv2d_21"]["Kernel"].shape == (1404, 3, 3, 32)
    x = torch.from_numpy(np.random.default_rng(0).uniform(0, 1, (1, 3, 192, 192)).astype(np.float32))
    with torch.no_grad():
        before = net(x)[0]
        net.trunk.trunk_blocks[5].pointwise.weight.mul_(1.05)
        after = net(x)[0]
    assert (after - before).abs().max() > 0.05


@pytest.mark.parametrize("points", [68, 98])
def test_the_accurate_export_has_constant_pads_and_no_shape_arithmetic(points):
    """Traced `x.shape` arithmetic for TensorFlow's SAME padding put ~1000 Shape/Gather/Neg/Div/...
    nodes into the accurate model's ONNX graph (1.17x slower in ONNX Runtime: `python -m bench.graphs`).
    The shipped export has none, and pads only ahead of the stride-2 convolutions (whose SAME
    padding is uneven) and on the widened shortcuts' channels; stride 1 pads inside the convolution."""
    import onnx

    from core.config import default_weights_path
    graph = onnx.load(str(default_weights_path(points, "accurate").with_suffix(".onnx"))).graph
    ops = [n.op_type for n in graph.node]
    assert not {"Shape", "Gather", "Neg"} & set(ops), sorted(set(ops))
    consumers = {name: n for n in graph.node for name in n.input}
    pads = [n for n in graph.node if n.op_type == "Pad"]
    assert pads
    for pad in pads:
        after = consumers[pad.output[0]]
        if after.op_type == "Conv":
            strides = next(a.ints for a in after.attribute if a.name == "strides")
            assert list(strides) == [2, 2], pad.name
        else:                               # the shortcut's zero channels, added to the block's output
            assert after.op_type == "Add", (pad.name, after.op_type)


def test_exporting_a_face_mesh_model_says_nothing():
    """A checkpoint without its export (`--weights my.pt`) is exported in memory at start-up: the
    fixed-size trace's expected notes (sizes become constants) must not reach the user's console."""
    import warnings

    from core.config import ModelConfig
    from core.model import MobileFAN
    from core.onnx_graph import export_onnx
    model = MobileFAN(ModelConfig(encoder="face_mesh", input_size=192, deconv_channels=16))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = export_onnx(model)
    assert len(graph) > 10_000
    noise = [str(w.message)[:80] for w in caught
             if issubclass(w.category, torch.jit.TracerWarning) or "Constant folding" in str(w.message)]
    assert not noise, noise
