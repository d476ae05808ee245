"""MediaPipe's face-landmark network (`face_landmark.tflite`) rebuilt as a PyTorch module.

The mediapipe 0.10.21 wheel ships the network (Apache-2.0, Google): 192x192
RGB in [0, 1] -> 468 mesh points (x, y, z in input pixels) and a face flag.
Its authors trained it on far more faces than our corpus holds, which is what
makes its trunk the teacher MobileFAN's distillation needs (training/teacher
... and weights/MODEL_CARD.md). The layers here carry the TFLite graph's own
names, so `training/tflite_weights.py` copies the wheel's weights in by name;
tests/test_face_mesh_net.py checks the port against the TFLite graph itself.

The graph is a residual stack of depthwise-separable blocks with PReLU:
    block(x)      = PReLU(x + conv1x1(dwconv3x3(x)))
    downsample(x) = PReLU(pad_channels(maxpool2(x)) + conv1x1(dwconv3x3/2(x)))
Stride-2 convolutions use TensorFlow's SAME padding, which on even sizes pads
one pixel at the bottom and right only; PyTorch pads symmetrically, so the
padding is explicit here. The trunk ends at 6x6x128 (`p_re_lu_15`, output
stride 32), where the mesh head and the face-flag head part.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

INPUT_SIZE = 192
TRUNK_CHANNELS = 128

# (depthwise, pointwise, prelu, in channels, out channels, stride) of each block of the trunk.
_TRUNK = [(f"depthwise_conv2d_{d}", f"conv2d_{d + 1}", f"p_re_lu_{d + 1}", cin, cout, s)
          for d, cin, cout, s in ((1, 16, 16, 1), (2, 16, 16, 1), (3, 16, 32, 2),
                                  (4, 32, 32, 1), (5, 32, 32, 1), (6, 32, 64, 2),
                                  (7, 64, 64, 1), (8, 64, 64, 1), (9, 64, 128, 2),
                                  (10, 128, 128, 1), (11, 128, 128, 1), (12, 128, 128, 2),
                                  (13, 128, 128, 1), (14, 128, 128, 1))]
_MESH = [("depthwise_conv2d_15", "conv2d_16", "p_re_lu_16", 128, 128, 2),
         ("depthwise_conv2d_16", "conv2d_17", "p_re_lu_17", 128, 128, 1),
         ("depthwise_conv2d_17", "conv2d_18", "p_re_lu_18", 128, 128, 1)]
_FLAG = [("depthwise_conv2d_23", "conv2d_28", "p_re_lu_26", 128, 128, 2)]


def same_pad(x: torch.Tensor, stride: int, kernel: int = 3) -> torch.Tensor:
    """TensorFlow's SAME padding for a `kernel` x `kernel` window at `stride`.

    The amounts are plain ints even while torch.onnx traces the module: an exported graph has a
    fixed input size (only its batch varies), and the shape arithmetic tracing wrote into it
    (Shape, Gather, Neg, Div, Sub, Concat...: ~1000 of the accurate graph's 1282 nodes) made the
    accurate model's network 1.17x slower in ONNX Runtime (`python -m bench.graphs`)."""
    h, w = (int(d) for d in x.shape[-2:])
    pad_h = max((-(-h // stride) - 1) * stride + kernel - h, 0)
    pad_w = max((-(-w // stride) - 1) * stride + kernel - w, 0)
    return F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))


class FadingPReLU(nn.Module):
    """A ReLU that can start as a PReLU: `relu(x) - fade * slope * relu(-x)`.

    The trunk's per-channel PReLUs are ~20% of the small model's network time in ONNX Runtime,
    which fuses a ReLU into the convolution before it but runs a PReLU as separate Mul, Relu and
    Add nodes (core/split_prelu.py; `python -m bench.architectures`: the relu rows). A trunk built
    with `trunk_activation="relu"` has these in its place. At `fade` 0, the default and what every
    loaded checkpoint, evaluation and export sees, this *is* a ReLU and exports as one Relu. To
    start such a trunk from MediaPipe's PReLU weights, training copies the wheel's slopes into
    `slope` (`load_trunk_weights`) and lowers `fade` from 1 to 0 over its first steps
    (training/train.py, `--relu-fade-epochs`), so the pretrained features are eased into the new
    activation rather than cut at once. The slopes are not learned and not saved: a finished
    ReLU trunk has no use for them, and a resumed run reads them from the wheel again."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("slope", torch.zeros(1, channels, 1, 1), persistent=False)
        self.fade = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fade == 0.0:
            return torch.relu(x)
        return torch.relu(x) - self.fade * self.slope * torch.relu(-x)


def _activation(channels: int, kind: str) -> nn.Module:
    return nn.PReLU(channels) if kind == "prelu" else FadingPReLU(channels)


def set_relu_fade(module: nn.Module, fade: float) -> None:
    """Every FadingPReLU in `module` at this fade (1: the PReLU it started from, 0: a ReLU)."""
    for m in module.modules():
        if isinstance(m, FadingPReLU):
            m.fade = float(fade)


def load_trunk_weights(trunk: "FaceMeshTrunk", state: dict[str, torch.Tensor]) -> None:
    """Load a PReLU trunk's weights (MediaPipe's, or a checkpoint's encoder) into `trunk`. Into a
    ReLU trunk the PReLU slopes go to its FadingPReLUs' `slope`, the rest loads as usual (strict)."""
    state = dict(state)
    for name, m in trunk.named_modules():
        if isinstance(m, FadingPReLU):
            slope = state.pop(f"{name}.weight", None)
            if slope is not None:
                m.slope.copy_(slope.reshape(m.slope.shape))
    trunk.load_state_dict(state)


class Block(nn.Module):
    """A residual depthwise-separable block; at stride 2 the shortcut is a max-pool whose
    missing channels are zeros (the graph's `channel_padding`)."""

    # False once core/same_pad_conv.py has moved the stride-2 SAME padding into the convolution.
    pads_before_conv = True

    def __init__(self, cin: int, cout: int, stride: int, activation: str = "prelu") -> None:
        super().__init__()
        self.stride, self.extra = stride, cout - cin
        # SAME padding at stride 1 is one pixel all round: the convolution's own padding (no Pad node
        # in an exported graph); at stride 2 it is uneven, so `same_pad` adds it.
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, 1 if stride == 1 else 0, groups=cin)
        self.pointwise = nn.Conv2d(cin, cout, 1)
        self.act = _activation(cout, activation)
        # The shortcut's zero channels as a 1x1 convolution once core/widening_conv.py has rewritten it.
        self.widen: nn.Module | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pointwise(self.depthwise(same_pad(x, 2) if self.stride == 2 and self.pads_before_conv else x))
        if self.stride == 2:
            x = F.max_pool2d(x, 2, 2)
        if self.extra:
            x = F.pad(x, (0, 0, 0, 0, 0, self.extra)) if self.widen is None else self.widen(x)
        return self.act(x + y)


class FaceMeshTrunk(nn.Module):
    """The shared trunk: (N, 3, S, S) RGB in [0, 1] -> (N, 128, S/32, S/32). MobileFAN's
    `encoder="face_mesh"` (core/model.py) is this, with the wheel's weights to start from.
    `activation`: "prelu" (MediaPipe's) or "relu" (FadingPReLU)."""

    out_channels = TRUNK_CHANNELS

    def __init__(self, activation: str = "prelu") -> None:
        super().__init__()
        self.conv2d_1 = nn.Conv2d(3, 16, 3, 2, 0)
        self.p_re_lu_1 = _activation(16, activation)
        self.trunk_blocks = nn.ModuleList(Block(cin, cout, s, activation) for *_, cin, cout, s in _TRUNK)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.p_re_lu_1(self.conv2d_1(same_pad(x, 2)))
        for block in self.trunk_blocks:
            x = block(x)
        return x


class FaceMeshNet(nn.Module):
    """`forward(x)` -> (mesh (N, 1404): 468 x (x, y, z) in input pixels, face-flag logit (N, 1));
    `trunk(x)` -> the (N, 128, S/32, S/32) features the teacher's decoder reads.
    Input: (N, 3, 192, 192) RGB in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = FaceMeshTrunk()
        self.mesh_blocks = nn.ModuleList(Block(cin, cout, s) for *_, cin, cout, s in _MESH)
        self.conv2d_19 = nn.Conv2d(128, 32, 1)
        self.p_re_lu_19 = nn.PReLU(32)
        self.mesh_block_32 = Block(32, 32, 1)                 # depthwise_conv2d_18, conv2d_20, p_re_lu_20
        self.conv2d_21 = nn.Conv2d(32, 1404, 3, 3, 0)
        self.flag_blocks = nn.ModuleList(Block(cin, cout, s) for *_, cin, cout, s in _FLAG)
        self.conv2d_29 = nn.Conv2d(128, 32, 1)
        self.p_re_lu_27 = nn.PReLU(32)
        self.flag_block_32 = Block(32, 32, 1)                 # depthwise_conv2d_24, conv2d_30, p_re_lu_28
        self.conv2d_31 = nn.Conv2d(32, 1, 3, 3, 0)

    def mesh(self, features: torch.Tensor) -> torch.Tensor:
        """The mesh head alone: the trunk's features -> (N, 1404) (a reader of the mesh that needs
        no face flag leaves that head out of its graph: training/mesh_map.py)."""
        m = features
        for block in self.mesh_blocks:
            m = block(m)
        m = self.mesh_block_32(self.p_re_lu_19(self.conv2d_19(m)))
        return self.conv2d_21(m).flatten(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.trunk(x)
        mesh = self.mesh(features)
        f = features
        for block in self.flag_blocks:
            f = block(f)
        f = self.flag_block_32(self.p_re_lu_27(self.conv2d_29(f)))
        return mesh, self.conv2d_31(f).flatten(1)


def tflite_names() -> dict[str, str]:
    """This module's parameter prefixes -> the TFLite graph's layer names (for loading its weights)."""
    names = {"trunk.conv2d_1": "conv2d_1", "trunk.p_re_lu_1": "p_re_lu_1", "conv2d_19": "conv2d_19",
             "p_re_lu_19": "p_re_lu_19", "conv2d_21": "conv2d_21", "conv2d_29": "conv2d_29",
             "p_re_lu_27": "p_re_lu_27", "conv2d_31": "conv2d_31"}
    for group, table in (("trunk.trunk_blocks", _TRUNK), ("mesh_blocks", _MESH), ("flag_blocks", _FLAG)):
        for i, (dw, pw, act, *_) in enumerate(table):
            names.update({f"{group}.{i}.depthwise": dw, f"{group}.{i}.pointwise": pw, f"{group}.{i}.act": act})
    for block, (dw, pw, act) in (("mesh_block_32", ("depthwise_conv2d_18", "conv2d_20", "p_re_lu_20")),
                                 ("flag_block_32", ("depthwise_conv2d_24", "conv2d_30", "p_re_lu_28"))):
        names.update({f"{block}.depthwise": dw, f"{block}.pointwise": pw, f"{block}.act": act})
    return names
