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
the peak (zeros off the map), times the matrix that blurs it into the 3x3 blurred neighbourhood;
at a peak on the map's edge, the missing neighbours repeat the middle row or column; the log of
the neighbourhood scaled to the peak; its derivatives by central differences (one matrix
product); one Newton step, kept where the Hessian is negative definite and the step at most a
pixel. What depends only on where the peak is (the window's indices, which of them are on the
map, the edge's picks, the peak's x and y) is looked up in tables with one Gather each
(`peak_tables`): 39 nodes where the first form, which computed them per call and padded every
map, had 66, and at one face a call each node's fixed cost is what the decoding costs
(`python -m bench.decode_in_graph`, its heatmaps-alone column; README, Performance, round 21).
"""
from __future__ import annotations

import numpy as np

from core.heatmap import WINDOW, WINDOW_TO_NEAR

OUTPUT = "points"          # (faces, points, 3): x, y in heatmap pixels, peak score
_PREFIX = "decode/"
MIN_OPSET = 13             # Split with its sizes as an input, as used here

# Central differences of a 3x3 neighbourhood p (row-major, [dy + 1, dx + 1]) at its centre, as the
# columns of one matrix: d/dx, d/dy, d2/dx2, d2/dy2, d2/dxdy (core/heatmap.decode_heatmaps).
_DERIVATIVES = np.zeros((9, 5), np.float32)
_DERIVATIVES[[5, 3], 0] = 0.5, -0.5
_DERIVATIVES[[7, 1], 1] = 0.5, -0.5
_DERIVATIVES[[5, 4, 3], 2] = 1, -2, 1
_DERIVATIVES[[7, 4, 1], 3] = 1, -2, 1
_DERIVATIVES[[8, 6, 2, 0], 4] = 0.25, -0.25, -0.25, 0.25


# The six products a * b whose pairwise differences are det and the two numerators (columns of d:
# 0 dx, 1 dy, 2 dxx, 3 dyy, 4 dxy), and the matrix that differences them.
_FACTORS_A = np.array([2, 4, 4, 3, 4, 2], np.int64)          # dxx, dxy, dxy, dyy, dxy, dxx
_FACTORS_B = np.array([3, 4, 1, 0, 0, 1], np.int64)          # dyy, dxy, dy,  dx,  dx,  dy
_COMBINE = np.zeros((6, 3), np.float32)
_COMBINE[[0, 1], 0] = 1, -1                                   # det   = dxx dyy - dxy dxy
_COMBINE[[2, 3], 1] = 1, -1                                   # num_x = dxy dy  - dyy dx
_COMBINE[[4, 5], 2] = 1, -1                                   # num_y = dxy dx  - dxx dy


def peak_tables(h: int, w: int) -> dict[str, np.ndarray]:
    """Everything the decoding needs that depends only on where the peak is, one row per flat
    index of an h x w map: the flat indices of its 7x7 window (`window_index`; any index where
    the window leaves the map) and which of them are on the map (`window_inside`: the zero
    padding of decode_heatmaps); which of the 3x3 blurred neighbours each neighbour takes
    (`edge_pick`: on an edge the missing ones repeat the middle row or column); and the peak's
    x, y (`peak_xy`). Looked up in the graph with one Gather each, instead of the row and column
    arithmetic, a padded copy of every map and the edge tests, ~25 small nodes a call."""
    ys, xs = np.divmod(np.arange(h * w), w)
    wy = ys[:, None, None] + WINDOW[None, :, None]                     # (hw, 7, 1)
    wx = xs[:, None, None] + WINDOW[None, None, :]                     # (hw, 1, 7)
    inside = ((wy >= 0) & (wy < h) & (wx >= 0) & (wx < w)).reshape(-1, 49)
    index = (np.clip(wy, 0, h - 1) * w + np.clip(wx, 0, w - 1)).reshape(-1, 49)
    grid = np.arange(3)
    rows = np.clip(grid[None, :], (ys == 0)[:, None].astype(int), 2 - (ys == h - 1)[:, None])   # (hw, 3)
    cols = np.clip(grid[None, :], (xs == 0)[:, None].astype(int), 2 - (xs == w - 1)[:, None])
    pick = (rows[:, :, None] * 3 + cols[:, None, :]).reshape(-1, 9)
    return {"window_index": index.astype(np.int64), "window_inside": inside,
            "edge_pick": pick.astype(np.int64), "peak_xy": np.stack([xs, ys], 1).astype(np.float32)}


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
    tables = peak_tables(h, w)
    consts = {
        "flat_shape": np.array([-1, h * w], np.int64), "out_shape": np.array([-1, points, 3], np.int64),
        "one_d": np.array([-1], np.int64), "centre": np.array([4], np.int64), "dxx_column": np.array([2], np.int64),
        "to_near": WINDOW_TO_NEAR.astype(np.float32), "derivatives": _DERIVATIVES,
        "factors_a": _FACTORS_A, "factors_b": _FACTORS_B, "combine": _COMBINE, "split12": np.array([1, 2], np.int64),
        "axis1": np.array([1], np.int64), "tiny": np.array(1e-12, np.float32), "floor": np.array(1e-10, np.float32),
        "one": np.array(1.0, np.float32), "zero": np.array(0.0, np.float32), **tables,
    }
    graph.initializer.extend(numpy_helper.from_array(v, _PREFIX + k) for k, v in consts.items())

    def node(op: str, inputs: list[str], outputs: list[str], **attrs) -> None:
        names = [i if i == heatmaps else _PREFIX + i for i in inputs]
        graph.node.append(helper.make_node(op, names, [_PREFIX + o for o in outputs],
                                           name=_PREFIX + outputs[0], **attrs))

    # The peak: argmax and score; what depends on the peak's place alone is looked up by its index.
    node("Reshape", [heatmaps, "flat_shape"], ["flat"])
    node("ArgMax", ["flat"], ["idx"], axis=1, keepdims=1)                          # (faces x points, 1)
    node("GatherElements", ["flat", "idx"], ["score"], axis=1)
    node("Reshape", ["idx", "one_d"], ["peak"])
    # The blurred 3x3 neighbourhood: the 7x7 window (zeros off the map), times the blur matrix;
    # at a peak on the edge the missing neighbours repeat the middle row or column.
    node("Gather", ["window_index", "peak"], ["window_idx"], axis=0)
    node("Gather", ["window_inside", "peak"], ["inside"], axis=0)
    node("GatherElements", ["flat", "window_idx"], ["window_raw"], axis=1)
    node("Where", ["inside", "window_raw", "zero"], ["window_values"])
    node("MatMul", ["window_values", "to_near"], ["near_raw"])                     # (faces x points, 9)
    node("Gather", ["edge_pick", "peak"], ["pick"], axis=0)
    node("GatherElements", ["near_raw", "pick"], ["near"], axis=1)
    # Log of the neighbourhood scaled to the raw peak (the scale keeps it off the floor), derivatives.
    node("Gather", ["near", "centre"], ["centre_value"], axis=1)
    node("Max", ["centre_value", "tiny"], ["centre_safe"])
    node("Div", ["score", "centre_safe"], ["scale_raw"])
    node("Max", ["scale_raw", "tiny"], ["scale"])
    node("Mul", ["near", "scale"], ["scaled"])
    node("Max", ["scaled", "floor"], ["scaled_safe"])
    node("Log", ["scaled_safe"], ["log_near"])
    node("MatMul", ["log_near", "derivatives"], ["d"])                            # dx, dy, dxx, dyy, dxy
    # det = dxx dyy - dxy dxy, and the step's numerators dxy dy - dyy dx, dxy dx - dxx dy: six products
    # of pairs of derivatives, differenced pairwise by one matrix.
    node("Gather", ["d", "factors_a"], ["a"], axis=1)
    node("Gather", ["d", "factors_b"], ["b"], axis=1)
    node("Mul", ["a", "b"], ["products"])
    node("MatMul", ["products", "combine"], ["terms"])
    node("Split", ["terms", "split12"], ["det", "num"], axis=1)
    # One Newton step where the Hessian is negative definite (det > 0 and dxx < 0; then dyy < 0 too,
    # dxx dyy being > dxy^2 >= 0) and the step at most a pixel.
    node("Greater", ["det", "tiny"], ["det_ok"])
    node("Gather", ["d", "dxx_column"], ["dxx"], axis=1)
    node("Less", ["dxx", "zero"], ["dxx_ok"])
    node("And", ["det_ok", "dxx_ok"], ["ok"])
    node("Where", ["ok", "det", "one"], ["det_safe"])
    node("Div", ["num", "det_safe"], ["step"])
    node("Abs", ["step"], ["step_abs"])
    if opset >= 18:                                               # axes became an input in opset 18
        node("ReduceMax", ["step_abs", "axis1"], ["step_max"], keepdims=1)
    else:
        node("ReduceMax", ["step_abs"], ["step_max"], axes=[1], keepdims=1)
    node("LessOrEqual", ["step_max", "one"], ["short"])
    node("And", ["ok", "short"], ["take"])
    node("Where", ["take", "step", "zero"], ["step_taken"])
    node("Gather", ["peak_xy", "peak"], ["peak_f"], axis=0)
    node("Add", ["peak_f", "step_taken"], ["xy"])
    node("Concat", ["xy", "score"], ["xys"], axis=1)
    graph.node.append(helper.make_node("Reshape", [_PREFIX + "xys", _PREFIX + "out_shape"], [OUTPUT],
                                       name=_PREFIX + OUTPUT))
    batch = graph.output[0].type.tensor_type.shape.dim[0]
    graph.output.append(helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT,
                                                      [batch.dim_param or batch.dim_value or None, points, 3]))
    return model.SerializeToString()
