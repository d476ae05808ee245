"""Eyelid networks side by side: the shipped one against others (smaller crops, fewer channels), per face.

    python -m bench.eyelid_nets runs/eyelids_w16/eyelids.onnx runs/eyelids_w16_c48/eyelids.onnx ...

Each network (`training.eyelid_net --export CHECKPOINT --to PATH`) as the app runs it (ONNX
Runtime, 1 thread, no spinning), on the two eyes of a real validation face of the corpus cropped at
its own crop size: the time of one face's two eye crops (`eye_crops`) and of the network on them,
best of `--repeat` in each of `--rounds` alternated rounds. How well each places the lids is
`python -m bench.blinks --eyelid-weights ...` (EAR against dlib's and blinks on labelled videos).
Needs the corpus cache (training/corpus/build.py). Timings belong here, never in pass/fail tests.
"""
from __future__ import annotations

import argparse
import timeit
from pathlib import Path

import numpy as np

from core.eyelids import EYELID_MODEL, EYES_68, EyelidRefiner, eye_crops
from core.images import read_rgb
from core.threads import set_thread_counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("others", nargs="+", type=Path, help="eyelid ONNX files to time beside the shipped one")
    parser.add_argument("--manifest", type=Path, default=Path("cache/corpus2/manifest.jsonl"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args(argv)
    set_thread_counts(1)
    paths = [EYELID_MODEL, *args.others]
    refiners = [EyelidRefiner(p) for p in paths]
    from training.datasets import load_samples
    sample = load_samples(str(args.manifest), "val")[0]
    rgb, points = read_rgb(sample.image), np.asarray(sample.points, np.float64)
    batches = [np.ascontiguousarray(eye_crops(rgb, points, r.crop, EYES_68)[0].transpose(0, 3, 1, 2), dtype=np.float32)
               for r in refiners]                     # the same face's two eyes, at each network's crop size
    crop_us = {p: [] for p in paths}
    net_us = {p: [] for p in paths}
    for _ in range(args.rounds):                          # alternated: the machine's speed drifts
        for path, refiner, batch in zip(paths, refiners, batches):
            crop_us[path].append(min(timeit.repeat(lambda: eye_crops(rgb, points, refiner.crop, EYES_68),
                                                   number=args.repeat, repeat=3)) / args.repeat * 1e6)
            net_us[path].append(min(timeit.repeat(lambda: refiner.runner(batch), number=args.repeat, repeat=3))
                                / args.repeat * 1e6)
    base = min(net_us[EYELID_MODEL]) + min(crop_us[EYELID_MODEL])
    print(f"one face's two eyes, best of {args.rounds} alternated rounds (us)\n")
    print("| eyelid network | crop px | 2 eye crops | network | both | x shipped's speed |")
    print("|---|---|---|---|---|---|")
    for path, refiner in zip(paths, refiners):
        crop, net = min(crop_us[path]), min(net_us[path])
        name = "weights/eyelids.onnx (shipped)" if path == EYELID_MODEL else str(path)
        print(f"| {name} | {refiner.crop.size} | {crop:.0f} | {net:.0f} | {crop + net:.0f} | {base / (crop + net):.2f} |")


if __name__ == "__main__":
    main()
