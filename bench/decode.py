"""Heatmap decoding, this tree's against another checkout's, side by side.

    git worktree add /tmp/before <commit>
    python -m bench.decode --before /tmp/before [--rounds 7] [--calls 2000]

Loads `core/heatmap.py` from both checkouts and times `decode_heatmaps` on the
same maps (one face's worth: 68 maps of 24x24 as the small model answers,
68 and 98 of 32x32 as the default models do; network-like, a noisy Gaussian
peak each, some on the border), alternating the two for `--rounds` rounds.
Prints each one's median microseconds a face, the ratio, and the largest
difference between the two decoders' points in heatmap pixels: a faster
decoder must give the same answer.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ((68, 24), (68, 32), (98, 32))


def load_heatmap_module(tree: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, tree / "core" / "heatmap.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def network_like_maps(points: int, size: int, seed: int = 0) -> np.ndarray:
    """A noisy Gaussian peak per map, one in eight on the border."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(0, size - 1, (points, 2))
    centres[::8, 0] = 0
    sigma = rng.uniform(1.0, 2.0, points)[:, None, None]
    maps = np.exp(-((yy - centres[:, 1, None, None]) ** 2 + (xx - centres[:, 0, None, None]) ** 2) / (2 * sigma ** 2))
    return (maps + rng.normal(0, 0.02, maps.shape)).astype(np.float32)


def per_call_us(decode, maps: np.ndarray, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        decode(maps)
    return (time.perf_counter() - start) / calls * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (e.g. a git worktree)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    before, after = load_heatmap_module(args.before, "heatmap_before"), load_heatmap_module(ROOT, "heatmap_after")
    print(f"decode_heatmaps, one face a call, median of {args.rounds} alternated rounds x {args.calls} calls")
    print()
    print("| maps | before us | this tree us | x as fast | largest point difference (heatmap px) |")
    print("|---|---|---|---|---|")
    for points, size in SHAPES:
        maps = network_like_maps(points, size)
        diff = float(np.abs(before.decode_heatmaps(maps)[0] - after.decode_heatmaps(maps)[0]).max())
        times: dict[str, list[float]] = {"before": [], "after": []}
        for module in (before, after):
            per_call_us(module.decode_heatmaps, maps, args.calls // 10)          # warm
        for _ in range(args.rounds):
            times["before"].append(per_call_us(before.decode_heatmaps, maps, args.calls))
            times["after"].append(per_call_us(after.decode_heatmaps, maps, args.calls))
        b, a = statistics.median(times["before"]), statistics.median(times["after"])
        print(f"| {points} x {size}x{size} | {b:.1f} | {a:.1f} | {b / a:.2f} | {diff:.1e} |")


if __name__ == "__main__":
    main()
