"""The face-mesh trunk's zero-padded shortcut channels as a fixed 1x1 convolution, for the ONNX export.

Three of the trunk's stride-2 blocks gain channels (16 -> 32, 32 -> 64, 64 -> 128): their shortcut
is a max-pool whose missing channels are zeros (core/face_mesh_net.Block). Exported as it is
written, that is a Pad on the channel axis, which ONNX Runtime cannot run in its blocked channel
layout: the graph leaves that layout there (a ReorderOutput), pads, adds and activates in plain
NCHW, and comes back (a ReorderInput), and every later block of the same width does the same,
since its shortcut now arrives in NCHW. As ONNX Runtime optimised it, the small model's graph had
24 such layout changes, and 9 Adds and 12 Relus no convolution took in; rewritten, 3, 0 and 3, and
the network 1.10x as fast (`python -m bench.graphs --model small --threads 1 --layout OLD.onnx
NEW.onnx`; README, Performance, round 21).

The same shortcut, exactly: a 1x1 convolution, no bias, whose weight is the identity on the first
`cin` channels and zero on the rest. Each output is 1.0 x one input plus zeros, so the numbers are
those of the Pad; the convolution runs in the blocked layout, and ONNX Runtime fuses the block's
Add and ReLU into its pointwise convolution. It costs cin x cout multiply-adds a pixel at a
quarter of the block's input resolution: for the 96-pixel small model 0.9 M in all.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from core.face_mesh_net import Block


def widening(cin: int, cout: int) -> nn.Conv2d:
    """A 1x1 convolution that copies `cin` channels and appends `cout - cin` zero channels."""
    if cout < cin:
        raise ValueError(f"a widening convolution cannot narrow {cin} channels to {cout}")
    conv = nn.Conv2d(cin, cout, 1, bias=False)
    weight = torch.zeros(cout, cin, 1, 1)
    weight[torch.arange(cin), torch.arange(cin)] = 1.0
    conv.weight = nn.Parameter(weight, requires_grad=False)
    return conv


def with_widening_convolutions(model: nn.Module) -> nn.Module:
    """A copy of `model` (in eval mode) whose face-mesh blocks that gain channels widen their
    shortcut with a 1x1 convolution instead of zero padding; the original is untouched. A model
    without such blocks comes back as an equal copy."""
    rewritten = copy.deepcopy(model).eval()
    for block in [m for m in rewritten.modules() if isinstance(m, Block)]:
        if block.extra:
            cin = block.pointwise.in_channels
            block.widen = widening(cin, cin + block.extra)
    return rewritten
