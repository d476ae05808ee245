"""Two or more ONNX graphs of one model, side by side: does a re-export run faster, and is it the same?

    git worktree add /tmp/before <commit>          # or any other copy of the graph
    python -m bench.graphs --model accurate weights/mobilefan_68_accurate.onnx /tmp/before/weights/mobilefan_68_accurate.onnx

Every graph gets an ONNX Runtime session with the app's settings (2 threads, no spinning) and
runs the same real face crops (the astronaut clip through the app's detector and the model's
crop), timed in alternation (bench.ort_settings.time_alternated). Printed per graph: its node
count, per-face ms each round and their median, its speed relative to the first graph, and its
largest heatmap difference from the first graph. `--profile` adds ONNX Runtime's own share of
the time per operator type (bench.subpixel.operator_shares); `--layout`, the node counts of the
graph as ONNX Runtime optimised it (its layout changes, ReorderInput / ReorderOutput, and the Add,
Relu and Pad nodes no convolution took in).
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

from bench.ort_settings import face_crops, session, time_alternated
from bench.subpixel import operator_shares


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("graphs", nargs="+", type=Path, help="ONNX files of the same model; the first is the reference")
    parser.add_argument("--model", default="default", help="whose crops to feed: default, small or accurate")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="each graph's time per operator type")
    parser.add_argument("--layout", action="store_true",
                        help="each graph's layout changes and unfused nodes after ONNX Runtime's optimisation")
    args = parser.parse_args(argv)
    import onnx

    labels = [str(path) for path in args.graphs]
    if len(set(labels)) != len(labels):
        parser.error("name each graph once")
    data = {label: path.read_bytes() for label, path in zip(labels, args.graphs)}
    nodes = {label: len(onnx.load_from_string(blob).graph.node) for label, blob in data.items()}
    sessions = {label: session(blob, args.threads, False, "all") for label, blob in data.items()}
    crops = face_crops(args.model, 8)
    name = sessions[labels[0]].get_inputs()[0].name
    ref = sessions[labels[0]].run(None, {name: crops[0]})[0]
    diffs = {label: float(np.abs(s.run(None, {name: crops[0]})[0] - ref).max()) for label, s in sessions.items()}
    times = time_alternated(sessions, crops, args.rounds, args.repeats)
    base = statistics.median(times[labels[0]])
    print(f"{args.threads} threads, no spinning; {args.rounds} rounds of {args.repeats} calls, alternated")
    print("| graph | nodes | per face ms (each round) | median | speed x the first | max heatmap diff |")
    print("|---|---|---|---|---|---|")
    for label in labels:
        median = statistics.median(times[label])
        print(f"| {label} | {nodes[label]} | {' / '.join(f'{v:.2f}' for v in times[label])} | {median:.2f} | "
              f"{base / median:.2f} | {diffs[label]:.2e} |")
    if args.profile:
        print("\n| graph | share of the network's time per operator type (ONNX Runtime's profiler) |\n|---|---|")
        for label in labels:
            shares = operator_shares(data[label], crops, args.threads)
            print(f"| {label} | " + ", ".join(f"{op} {share:.0%}" for op, share in shares if share >= 0.01) + " |")

    if args.layout:
        kinds = ("ReorderInput", "ReorderOutput", "Add", "Relu", "Pad", "Conv")
        print("\nNodes of each graph as ONNX Runtime optimised it\n\n| graph | " + " | ".join(kinds) + " |\n|---|"
              + "---|" * len(kinds))
        for label in labels:
            counts = optimised_op_counts(data[label], args.threads)
            print(f"| {label} | " + " | ".join(str(counts.get(kind, 0)) for kind in kinds) + " |")


def optimised_op_counts(data: bytes, threads: int) -> dict[str, int]:
    """Node counts per operator type of `data` as ONNX Runtime runs it (all optimisations, this CPU)."""
    import collections
    import tempfile

    import onnx
    with tempfile.TemporaryDirectory() as tmp:
        session(data, threads, False, "all", save_optimised=f"{tmp}/optimised.onnx")
        graph = onnx.load(f"{tmp}/optimised.onnx").graph
    return dict(collections.Counter(node.op_type for node in graph.node))

if __name__ == "__main__":
    main()
