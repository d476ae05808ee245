"""The face-mesh trunk's stride-2 SAME padding moved inside its convolutions, for the ONNX export.

TensorFlow's SAME padding of a 3x3, stride-2 convolution on an even-sized input pads one row
and column at the bottom and right only; PyTorch's convolutions pad symmetrically, so the trunk
pads explicitly (core/face_mesh_net.same_pad) and the exported graph has a Pad before each of
its stride-2 convolutions. ONNX Runtime runs Pad outside its blocked channel layout, with a
layout change on either side.

The same convolution, exactly: a 4x4 kernel whose first row and column are zero, padded by one
on every side. Output i of a stride-2 window then covers input rows 2i - 1 .. 2i + 2, of which
the zero row drops 2i - 1, leaving SAME's 2i .. 2i + 2; the last window's bottom row is the
padding, as SAME's is; and the output size, (H + 2 - 4) / 2 + 1 = H / 2, is SAME's. The zero
taps cost multiply-adds, 16 / 9 of each rewritten convolution's. For the four depthwise ones that
is less than the Pads and layout changes cost (`python -m bench.graphs`: the default network
1.07x as fast with one thread, 1.11x with two; the accurate one 0.98x / 1.05x, no change within
this machine's noise). The stem (3 -> 16 channels at full resolution, a dense convolution) keeps its
Pad: rewritten too, the accurate network was 0.91-0.95x as fast in three of four runs. Only an even
input size has this form; every trunk input here is a multiple of 32, so each stage's is even.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from core.face_mesh_net import FaceMeshTrunk


def padded_inside(conv: nn.Conv2d) -> nn.Conv2d:
    """A 3x3, stride-2, unpadded convolution behind a (0, 1, 0, 1) pad -> the same function as one
    4x4, stride-2 convolution padded by 1, its first kernel row and column zero."""
    if conv.kernel_size != (3, 3) or conv.stride != (2, 2) or conv.padding != (0, 0) or conv.dilation != (1, 1):
        raise ValueError("only an unpadded 3x3 stride-2 convolution has this form")
    inside = nn.Conv2d(conv.in_channels, conv.out_channels, 4, 2, 1, groups=conv.groups,
                       bias=conv.bias is not None)
    weight = torch.zeros_like(inside.weight)
    weight[:, :, 1:, 1:] = conv.weight.detach()
    inside.weight.data = weight
    if conv.bias is not None:
        inside.bias.data = conv.bias.detach().clone()
    return inside


def with_padding_in_convolutions(model: nn.Module, input_size: int) -> nn.Module:
    """A copy of `model` (in eval mode) whose face-mesh trunks, if any, pad inside their stride-2
    depthwise convolutions (the stem keeps its Pad); the original is untouched. `input_size`: the
    trunk's input side. Only one that halves to even sizes at every stride-2 stage (a multiple of
    32) has this form; any other, and a model without the trunk, comes back as an equal copy (its
    Pads stay: slower, not wrong)."""
    rewritten = copy.deepcopy(model).eval()
    if input_size % 32:
        return rewritten
    for trunk in [m for m in rewritten.modules() if isinstance(m, FaceMeshTrunk)]:
        for block in trunk.trunk_blocks:
            if block.stride == 2:
                block.depthwise = padded_inside(block.depthwise)
                block.pads_before_conv = False
    return rewritten
