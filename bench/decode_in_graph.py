"""The face network with its heatmaps decoded in numpy, or inside its ONNX graph: time per face.

    python -m bench.decode_in_graph [--models small default] [--rounds 7] [--repeats 300]

For each shipped model, two ONNX Runtime sessions on the same export with the app's settings
(`--threads`, no spinning): the plain graph, whose heatmaps `core.heatmap.decode_heatmaps`
decodes (as the app did before), and the graph with the decoding appended
(core/heatmap_graph.py), which hands back the points. Real face crops (the astronaut clip through
the app's detector and crop); the two alternate for `--rounds` rounds of `--repeats` faces each.
Prints each one's median ms a face, the ratio, and the largest difference between their points
(heatmap pixels): the faster one must give the same answer. A third column times the plain
graph's heatmaps alone, not decoded: what the decoding in the graph adds is its column minus this one.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.ort_settings import face_crops
from core.config import default_weights_path
from core.heatmap import decode_heatmaps
from core.runtimes import OnnxRuntimeRunner
from core.weights import export_config, export_path, onnx_metadata


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["small", "default"], choices=["small", "default", "accurate"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--faces", type=int, default=50)
    args = parser.parse_args(argv)
    print(f"ONNX Runtime fp32, {args.threads} thread(s), no spinning; median of {args.rounds} alternated rounds x "
          f"{args.repeats} faces, one face a call")
    print()
    print("| model | heatmaps, then numpy decode: ms | decoded in the graph: ms | x as fast | heatmaps alone: ms | "
          "largest point difference (heatmap px) |")
    print("|---|---|---|---|---|---|")
    for model in args.models:
        checkpoint = default_weights_path(68, model)
        data = export_path(checkpoint).read_bytes()
        config = export_config(onnx_metadata(data), checkpoint)
        if config is None:
            parser.error(f"{export_path(checkpoint)} was not made from {checkpoint}: run training.export")
        plain = OnnxRuntimeRunner(data, args.threads, spinning=False)
        in_graph = OnnxRuntimeRunner(data, args.threads, spinning=False, decode_heatmap_size=config.heatmap_size)
        crops = face_crops(model, args.faces)
        calls = {"numpy": lambda c: decode_heatmaps(plain(c)), "graph": in_graph.decoded, "none": plain}
        diff = max(float(np.abs(calls["numpy"](c)[0] - calls["graph"](c)[..., :2]).max()) for c in crops)
        times: dict[str, list[float]] = {key: [] for key in calls}
        for _ in range(args.rounds):
            for key, call in calls.items():
                for crop in crops[:10]:
                    call(crop)
                start = time.perf_counter()
                for i in range(args.repeats):
                    call(crops[i % len(crops)])
                times[key].append((time.perf_counter() - start) / args.repeats * 1e3)
        a, b, c = (statistics.median(times[key]) for key in ("numpy", "graph", "none"))
        print(f"| {model} | {a:.3f} | {b:.3f} | {a / b:.2f} | {c:.3f} | {diff:.1e} |")


if __name__ == "__main__":
    main()
