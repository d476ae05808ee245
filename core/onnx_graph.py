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

from core.model import MobileFAN
from core.same_pad_conv import with_padding_in_convolutions
from core.split_prelu import with_split_prelu
from core.subpixel_deconv import with_subpixel_decoder
from core.widening_conv import with_widening_convolutions
from core.weights import tag_export

ONNX_OPSET = 17


def export_onnx(model: MobileFAN, source_sha: str = "", subpixel: bool = False) -> bytes:
    """ONNX (opset 17) with a dynamic batch axis; tagged with the checkpoint hash and the model's
    config when `source_sha` is given. `subpixel`: the decoder as sub-pixel convolutions (the
    form to quantise to int8)."""
    model = with_widening_convolutions(with_padding_in_convolutions(with_split_prelu(model), model.config.input_size))
    if subpixel:
        model = with_subpixel_decoder(model)
    size = model.config.input_size
    example = torch.zeros(1, 3, size, size)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The graph has a fixed input size (only the batch varies): sizes read while tracing are
        # meant to become constants (core/face_mesh_net.same_pad), and the constant pads' index
        # reversal torch cannot fold is folded by ONNX Runtime when it loads the graph. Neither
        # is news to whoever exports.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")
        torch.onnx.export(model.eval(), (example,), buffer, input_names=["image"], output_names=["heatmaps"],
                          dynamic_axes={"image": {0: "batch"}, "heatmaps": {0: "batch"}},
                          opset_version=ONNX_OPSET, dynamo=False)
    return tag_export(buffer.getvalue(), source_sha, model.config) if source_sha else buffer.getvalue()
