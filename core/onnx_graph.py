"""MobileFAN as an ONNX graph (needs torch), tagged with its checkpoint and config.

`python -m training.export` writes these graphs beside a checkpoint ahead of
time (and the int8 version); the run time builds the fp32 graph in memory
only when no matching file is there (~1-2 s, and torch). Reading a tagged
graph needs no torch: core/weights.py. The graph for int8 quantisation has its
deconvolutions rewritten as sub-pixel convolutions (core/subpixel_deconv.py), which
ONNX Runtime runs in int8; the fp32 graph keeps them, faster in fp32. Every graph has its
PReLUs written as Mul + Relu + Add (core/split_prelu.py), which ONNX Runtime keeps in its
blocked layout: the face-mesh models' network ~1.4-1.6x as fast, same heatmaps; and the trunk's
stride-2 SAME padding inside its depthwise convolutions (core/same_pad_conv.py), no Pad nodes before them;
and the zero channels of its widening shortcuts as 1x1 convolutions (core/widening_conv.py), so that the
whole trunk stays in that layout: the network ~1.1x as fast again, same heatmaps.
"""
from __future__ import annotations

import io
import warnings

import torch
from torch import nn

from core.model import MobileFAN
from core.same_pad_conv import with_padding_in_convolutions
from core.split_prelu import with_split_prelu
from core.subpixel_deconv import with_subpixel_decoder
from core.widening_conv import with_widening_convolutions
from core.weights import tag_export

ONNX_OPSET = 17


def layout_friendly(model: nn.Module, input_size: int) -> nn.Module:
    """A copy of `model` in the forms ONNX Runtime keeps in its blocked layout (split PReLUs, SAME
    padding inside the depthwise convolutions, widening shortcuts as 1x1 convolutions): the same
    numbers. Any module holding the face-mesh trunk or PReLUs: the face models, the mesh blend's."""
    return with_widening_convolutions(with_padding_in_convolutions(with_split_prelu(model), input_size))


def trace_onnx(model: nn.Module, input_size: int, input_name: str, output_name: str) -> bytes:
    """ONNX (opset 17) of `model` on (N, 3, S, S) input, the batch axis N dynamic."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The graph has a fixed input size (only the batch varies): sizes read while tracing are
        # meant to become constants (core/face_mesh_net.same_pad), and the constant pads' index
        # reversal torch cannot fold is folded by ONNX Runtime when it loads the graph. Neither
        # is news to whoever exports.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX export")
        torch.onnx.export(model.eval(), (torch.zeros(1, 3, input_size, input_size),), buffer,
                          input_names=[input_name], output_names=[output_name],
                          dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                          opset_version=ONNX_OPSET, dynamo=False)
    return buffer.getvalue()


def export_onnx(model: MobileFAN, source_sha: str = "", subpixel: bool = False) -> bytes:
    """ONNX (opset 17) with a dynamic batch axis; tagged with the checkpoint hash and the model's
    config when `source_sha` is given. `subpixel`: the decoder as sub-pixel convolutions (the
    form to quantise to int8)."""
    model = layout_friendly(model, model.config.input_size)
    if subpixel:
        model = with_subpixel_decoder(model)
    graph = trace_onnx(model, model.config.input_size, "image", "heatmaps")
    return tag_export(graph, source_sha, model.config) if source_sha else graph
