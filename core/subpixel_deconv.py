"""MobileFAN's deconvolutions rewritten as sub-pixel convolutions, for the int8 export.

ONNX Runtime's CPU provider has no int8 kernel for ConvTranspose: in the int8 graph each of
the decoder's three deconvolutions is dequantised, run in fp32 (col2im + GEMM) and quantised
again: ConvTranspose 34% of the default model's int8 time, its Dequantize/Quantize another
13%, about what the whole int8 encoder costs (ONNX Runtime's own profiler:
`python -m bench.subpixel --profile`).

A stride-2, kernel-4, padding-1 deconvolution is exactly a 3x3 convolution with four times the
output channels followed by a pixel shuffle (Shi et al. 2016, "sub-pixel convolution"): output
pixel (2i + a, 2j + b) sees input rows i - 1 .. i + 1 and columns j - 1 .. j + 1 through the
kernel taps of phase (a, b), and the other taps are zero. Its BatchNorm folds into the
convolution, and its ReLU commutes with the shuffle, so each block becomes Conv + ReLU +
DepthToSpace, all of which ONNX Runtime runs in int8. The arithmetic is the same up to float
rounding. A 3x3 kernel does 2.25x the deconvolution's multiply-adds (its zero taps); a 2x2 one
(`taps=2`, the default) does as many, plus a one-hot depthwise convolution that aligns the
phases. Only the int8 export uses this form: in fp32 the deconvolution is faster
(`python -m bench.subpixel`: all of them side by side).
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from core.model import MobileFAN

# Deconvolution kernel row (column) that phase a (b) reads through each tap row (column) of the
# convolution that replaces it (out row 2i + a = 2h - 1 + k for input row h):
# 3x3 taps: tap 0 is input row i - 1, tap 1 row i, tap 2 row i + 1;
# 2x2 taps, window at row i + a of the once-padded input: tap 0 is row i + a - 1, tap 1 row i + a.
PHASE_TAPS = {3: {0: {0: 3, 1: 1}, 1: {1: 2, 2: 0}},
              2: {0: {0: 3, 1: 1}, 1: {0: 2, 1: 0}}}


def subpixel_block(deconv: nn.ConvTranspose2d, bn: nn.BatchNorm2d, taps: int = 2) -> nn.Sequential:
    """ConvTranspose2d(k=4, s=2, p=1, no bias) + BatchNorm2d (eval statistics) + ReLU as a
    convolution with 4 x the channels + ReLU + PixelShuffle(2), computing the same function.

    taps=3: one 3x3 convolution; each phase uses 4 of its 9 taps (2.25x the deconvolution's
    multiply-adds). taps=2: a 2x2 convolution on the once-padded input, as many multiply-adds as
    the deconvolution, whose phases come out one row (column) apart; a depthwise 2x2 convolution
    with one-hot kernels moves each phase back into place before the shuffle.
    """
    if (deconv.kernel_size, deconv.stride, deconv.padding, deconv.output_padding, deconv.groups,
            deconv.dilation) != ((4, 4), (2, 2), (1, 1), (0, 0), 1, (1, 1)) or deconv.bias is not None:
        raise ValueError("only a bias-free ConvTranspose2d(kernel 4, stride 2, padding 1) has this form")
    if taps not in PHASE_TAPS:
        raise ValueError(f"taps must be 2 or 3, got {taps}")
    weight = deconv.weight.detach().float()                          # (in, out, 4, 4)
    cin, cout = weight.shape[:2]
    scale = bn.weight.detach().float() / torch.sqrt(bn.running_var.float() + bn.eps)
    shift = bn.bias.detach().float() - bn.running_mean.float() * scale
    kernel = torch.zeros(cout, 2, 2, cin, taps, taps)                # PixelShuffle's order: (out, a, b)
    for a, rows in PHASE_TAPS[taps].items():
        for b, cols in PHASE_TAPS[taps].items():
            for tap_row, k_row in rows.items():
                for tap_col, k_col in cols.items():
                    kernel[:, a, b, :, tap_row, tap_col] = weight[:, :, k_row, k_col].t()
    conv = nn.Conv2d(cin, 4 * cout, taps, padding=1, bias=True)
    conv.weight.data = (kernel * scale.view(cout, 1, 1, 1, 1, 1)).reshape(4 * cout, cin, taps, taps)
    conv.bias.data = shift.repeat_interleave(4)
    if taps == 3:
        return nn.Sequential(conv, nn.ReLU(), nn.PixelShuffle(2))
    align = nn.Conv2d(4 * cout, 4 * cout, 2, groups=4 * cout, bias=False)
    one_hot = torch.zeros(cout, 2, 2, 1, 2, 2)
    for a in (0, 1):
        for b in (0, 1):
            one_hot[:, a, b, 0, a, b] = 1.0                          # phase (a, b) read at (i + a, j + b)
    align.weight.data = one_hot.reshape(4 * cout, 1, 2, 2)
    return nn.Sequential(conv, nn.ReLU(), align, nn.PixelShuffle(2))


def with_subpixel_decoder(model: MobileFAN, taps: int = 2) -> MobileFAN:
    """A copy of `model` (in eval mode) whose decoder blocks are sub-pixel convolutions; the
    original is untouched. Same heatmaps and features up to float rounding."""
    rewritten = copy.deepcopy(model).float().eval()
    rewritten.deconvs = nn.ModuleList(subpixel_block(block[0], block[1], taps) for block in rewritten.deconvs)
    return rewritten
