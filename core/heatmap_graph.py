"""The heatmap decoding of core/heatmap.py as ONNX nodes appended to a network's graph.

ONNX Runtime then hands back each landmark's position and score, (faces, points, 3) floats,
instead of the heatmaps (68 x 24 x 24 floats a face for the small model, copied out of the
session on every call) for numpy to decode in ~40 small calls. Same numbers (within 2e-6
heatmap pixels: tests/test_heatmap_graph.py), one call: the small model's network + decode
0.757 against 0.845 ms a face (`python -m bench.decode_in_graph`; README, Performance, round 19).
Built here with onnx's helpers
when a runner opens a graph (core/runtimes.py), so the exported files stay plain heatmap
networks that every back-end reads (OpenCV's DNN module, the int8 quantiser, test-time
mirroring, which averages heatmaps before decoding).

The steps are decode_heatmaps', in the same order: argmax and peak score; the 7x7 window round
the peak from the map padded with zeros, times the matrix that blurs it into the 3x3 blurred
neighbourhood; at a peak on the map's edge, the missing neighbours repeat the middle row or
column; the log of the neighbourhood scaled to the peak; its derivatives by central differences
(one matrix product); one Newton step, kept where the Hessian is negative definite and the step
at most a pixel.
"""
from __future__ import annotations

import numpy as np

from core.heatmap import WINDOW, WINDOW_TO_NEAR

OUTPUT = "points"          # (faces, points, 3): x, y in heatmap pixels, peak score
_PREFIX = "decode/"
MIN_OPSET = 13             # Pad, Split and GatherElements as used here

# Central differences of a 3x3 neighbourhood p (row-major, [dy + 1, dx + 1]) at its centre, as the
# columns of one matrix: d/dx, d/dy, d2/dx2, d2/dy2, d2/dxdy (core/heatmap.decode_heatmaps).
_DERIVATIVES = np.zeros((9, 5), np.float32)
_DERIVATIVES[[5, 3], 0] = 0.5, -0.5
_DERIVATIVES[[7, 1], 1] = 0.5, -0.5
_DERIVATIVES[[5, 4, 3], 2] = 1, -2, 1
_DERIVATIVES[[7, 4, 1], 3] = 1, -2, 1
_DERIVATIVES[[8, 6, 2, 0], 4] = 0.25, -0.25, -0.25, 0.25


def append_decoding(onnx_bytes: bytes, heatmap_size: int) -> bytes:
    """`onnx_bytes` (a network whose first output is (batch, points, H, W) heatmaps, H = W =
    `heatmap_size`: its ModelConfig's, which the exported graph does not spell out) with a second
    output, `OUTPUT`, its decoded points. ValueError for another output shape or a graph older
    than opset 13."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load_from_string(onnx_bytes)
    graph = model.graph
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise ValueError(f"heatmap decoding in the graph needs opset >= {MIN_OPSET}, this graph has {opset}")
    dims = [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or not dims[1] or any(d not in (0, heatmap_size) for d in dims[2:]):
        raise ValueError(f"the graph's first output is not (batch, points, {heatmap_size}, {heatmap_size}) "
                         f"heatmaps: {dims}")
    points, h, w = dims[1], heatmap_size, heatmap_size
    heatmaps = graph.output[0].name
    wp = w + 6                                                   # the map padded by 3 on each side
    # Flat index of window cell (i, j) of the padded map, for a peak at flat index idx of the map:
    # (ys + 3 + i) * wp + xs + 3 + j = idx + 6 * ys + [(3 + i) * wp + 3 + j].
    window = ((3 + WINDOW[:, None]) * wp + 3 + WINDOW[None, :]).reshape(1, 49)
    rows, cols = np.repeat(np.arange(3), 3).reshape(1, 9), np.tile(np.arange(3), 3).reshape(1, 9)
    consts = {
        "flat_shape": np.array([-1, h * w], np.int64), "padded_shape": np.array([-1, (h + 6) * wp], np.int64),
        "pads": np.array([0, 0, 3, 3, 0, 0, 3, 3], np.int64), "out_shape": np.array([-1, points, 3], np.int64),
        "w": np.array(w, np.int64), "six": np.array(6, np.int64), "window": window.astype(np.int64),
        "zero_i": np.array(0, np.int64), "two_i": np.array(2, np.int64), "three_i": np.array(3, np.int64),
        "last_row": np.array(h - 1, np.int64), "last_col": np.array(w - 1, np.int64),
        "rows": rows.astype(np.int64), "cols": cols.astype(np.int64),
        "to_near": WINDOW_TO_NEAR.astype(np.float32), "derivatives": _DERIVATIVES,
        "centre_start": np.array([4], np.int64), "centre_end": np.array([5], np.int64), "axis1": np.array([1], np.int64),
        "split5": np.ones(5, np.int64), "tiny": np.array(1e-12, np.float32), "floor": np.array(1e-10, np.float32),
        "one": np.array(1.0, np.float32), "zero": np.array(0.0, np.float32),
    }
    graph.initializer.extend(numpy_helper.from_array(v, _PREFIX + k) for k, v in consts.items())

    def node(op: str, inputs: list[str], outputs: list[str], **attrs) -> None:
        names = [i if i == heatmaps else _PREFIX + i for i in inputs]
        graph.node.append(helper.make_node(op, names, [_PREFIX + o for o in outputs],
                                           name=_PREFIX + outputs[0], **attrs))

    def product_difference(a: str, b: str, c: str, d: str, out: str) -> None:
        """out = a * b - c * d"""
        node("Mul", [a, b], [f"{out}_ab"])
        node("Mul", [c, d], [f"{out}_cd"])
        node("Sub", [f"{out}_ab", f"{out}_cd"], [out])

    # The peak: argmax, score, row and column.
    node("Reshape", [heatmaps, "flat_shape"], ["flat"])
    node("ArgMax", ["flat"], ["idx"], axis=1, keepdims=1)                          # (faces x points, 1)
    node("GatherElements", ["flat", "idx"], ["score"], axis=1)
    node("Div", ["idx", "w"], ["ys"])
    node("Mul", ["ys", "w"], ["row_start"])
    node("Sub", ["idx", "row_start"], ["xs"])
    # The blurred 3x3 neighbourhood: the 7x7 window of the zero-padded map, times the blur matrix.
    node("Pad", [heatmaps, "pads"], ["padded_maps"])
    node("Reshape", ["padded_maps", "padded_shape"], ["padded"])
    node("Mul", ["ys", "six"], ["ys6"])
    node("Add", ["idx", "ys6"], ["padded_idx"])
    node("Add", ["padded_idx", "window"], ["window_idx"])
    node("GatherElements", ["padded", "window_idx"], ["window_values"], axis=1)
    node("MatMul", ["window_values", "to_near"], ["near_raw"])                     # (faces x points, 9)
    # A peak on the edge: neighbour row r becomes clip(r, top ? 1 : 0, bottom ? 1 : 2), columns alike.
    for axis, coord, last, grid in (("y", "ys", "last_row", "rows"), ("x", "xs", "last_col", "cols")):
        node("Equal", [coord, "zero_i"], [f"low_edge_{axis}"])
        node("Cast", [f"low_edge_{axis}"], [f"low_{axis}"], to=TensorProto.INT64)
        node("Equal", [coord, last], [f"high_edge_{axis}"])
        node("Cast", [f"high_edge_{axis}"], [f"high_edge_i_{axis}"], to=TensorProto.INT64)
        node("Sub", ["two_i", f"high_edge_i_{axis}"], [f"high_{axis}"])
        node("Min", [grid, f"high_{axis}"], [f"clipped_high_{axis}"])
        node("Max", [f"clipped_high_{axis}", f"low_{axis}"], [f"pick_{axis}"])
    node("Mul", ["pick_y", "three_i"], ["pick_row"])
    node("Add", ["pick_row", "pick_x"], ["pick"])
    node("GatherElements", ["near_raw", "pick"], ["near"], axis=1)
    # Log of the neighbourhood scaled to the raw peak (the scale keeps it off the floor), derivatives.
    node("Slice", ["near", "centre_start", "centre_end", "axis1"], ["centre"])
    node("Max", ["centre", "tiny"], ["centre_safe"])
    node("Div", ["score", "centre_safe"], ["scale_raw"])
    node("Max", ["scale_raw", "tiny"], ["scale"])
    node("Mul", ["near", "scale"], ["scaled"])
    node("Max", ["scaled", "floor"], ["scaled_safe"])
    node("Log", ["scaled_safe"], ["log_near"])
    node("MatMul", ["log_near", "derivatives"], ["d"])
    node("Split", ["d", "split5"], ["dx", "dy", "dxx", "dyy", "dxy"], axis=1)
    # One Newton step where the Hessian is negative definite and the step at most a pixel.
    product_difference("dxx", "dyy", "dxy", "dxy", "det")
    node("Greater", ["det", "tiny"], ["det_ok"])
    node("Less", ["dxx", "zero"], ["dxx_ok"])
    node("Less", ["dyy", "zero"], ["dyy_ok"])
    node("And", ["det_ok", "dxx_ok"], ["ok_a"])
    node("And", ["ok_a", "dyy_ok"], ["ok"])
    node("Where", ["ok", "det", "one"], ["det_safe"])
    product_difference("dxy", "dy", "dyy", "dx", "num_x")
    product_difference("dxy", "dx", "dxx", "dy", "num_y")
    node("Concat", ["num_x", "num_y"], ["num"], axis=1)
    node("Div", ["num", "det_safe"], ["step"])
    node("Abs", ["step"], ["step_abs"])
    if opset >= 18:                                               # axes became an input in opset 18
        node("ReduceMax", ["step_abs", "axis1"], ["step_max"], keepdims=1)
    else:
        node("ReduceMax", ["step_abs"], ["step_max"], axes=[1], keepdims=1)
    node("LessOrEqual", ["step_max", "one"], ["short"])
    node("And", ["ok", "short"], ["take"])
    node("Where", ["take", "step", "zero"], ["step_taken"])
    node("Concat", ["xs", "ys"], ["peak"], axis=1)
    node("Cast", ["peak"], ["peak_f"], to=TensorProto.FLOAT)
    node("Add", ["peak_f", "step_taken"], ["xy"])
    node("Concat", ["xy", "score"], ["xys"], axis=1)
    graph.node.append(helper.make_node("Reshape", [_PREFIX + "xys", _PREFIX + "out_shape"], [OUTPUT],
                                       name=_PREFIX + OUTPUT))
    batch = graph.output[0].type.tensor_type.shape.dim[0]
    graph.output.append(helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT,
                                                      [batch.dim_param or batch.dim_value or None, points, 3]))
    return model.SerializeToString()
