"""Would an int8 eyelid network pay? Its time and its lids against the shipped fp32 one.

    python -m bench.eyelid_int8 [--manifest cache/corpus2/manifest.jsonl]

Quantises weights/eyelids.onnx statically (ONNX Runtime's QDQ int8, by
training/export.py's quantize_int8, as the face networks were; weights per
channel and per tensor), calibrated on the eye crops of training faces of the corpus, then
prints, for each: the network's time on one face's two eyes (1 thread, best
of rounds; alternated with fp32), and how far its lids land from the fp32
network's on the eye crops of the validation faces (crop pixels; an eye is
`size / per_eye_width` pixels wide in its crop). Needs the corpus cache
(training/corpus/build.py). Timings belong here, never in pass/fail tests.
"""
from __future__ import annotations

import argparse
import timeit
from pathlib import Path

import numpy as np

from core.eyelids import EYELID_MODEL, EYES_68, EyelidRefiner, eye_crops
from core.images import read_rgb
from core.runtimes import OnnxRuntimeRunner
from core.threads import set_thread_counts
from training.export import quantize_int8


def eye_batch(manifest: Path, split: str, faces: int, refiner: EyelidRefiner) -> np.ndarray:
    """(2 x faces, 3, S, S) float32 eye crops of `faces` faces of `split`, framed by their labels' corners."""
    from training.datasets import load_samples
    samples = load_samples(str(manifest), split)
    samples = samples[::max(1, len(samples) // faces)][:faces]
    if not samples:
        raise SystemExit(f"no {split} faces in {manifest}")
    crops = [eye_crops(read_rgb(sample.image), np.asarray(sample.points, np.float64), refiner.crop, EYES_68)[0]
             for sample in samples]
    return np.ascontiguousarray(np.concatenate(crops).transpose(0, 3, 1, 2), dtype=np.float32)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=Path("cache/corpus2/manifest.jsonl"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    set_thread_counts(1)
    refiner = EyelidRefiner()
    calibration = eye_batch(args.manifest, "train", 64, refiner)
    validation = eye_batch(args.manifest, "val", 148, refiner)
    reference = refiner.runner(validation).reshape(-1, 4, 2)
    one_face = validation[:2].copy()
    width = refiner.crop.size / refiner.crop.per_eye_width
    print(f"eyelid network, {len(validation) // 2} validation faces (2 eyes each); an eye is {width:.0f} px wide "
          f"in its {refiner.crop.size} px crop\n")
    rows, fp32 = [], []
    for per_channel in (True, False):
        int8_graph = quantize_int8(EYELID_MODEL.read_bytes(), calibration, "eyes", per_channel)
        runner = OnnxRuntimeRunner(int8_graph, 1, name="int8", spinning=False)
        distance = np.linalg.norm(runner(validation).reshape(-1, 4, 2) - reference, axis=-1)
        int8 = []
        for _ in range(args.rounds):                     # alternated: the machine's speed drifts
            fp32.append(min(timeit.repeat(lambda: refiner.runner(one_face), number=300, repeat=3)) / 300 * 1e6)
            int8.append(min(timeit.repeat(lambda: runner(one_face), number=300, repeat=3)) / 300 * 1e6)
        rows.append((f"int8, weights per {'channel' if per_channel else 'tensor'}", min(int8), distance))
    print("| network | us for 2 eyes (best of rounds) | x fp32 | lid distance to fp32's: mean / p95 / max px |")
    print("|---|---|---|---|")
    print(f"| fp32 (shipped) | {min(fp32):.0f} | 1.00 | 0 |")
    for name, us, distance in rows:
        print(f"| {name} | {us:.0f} | {min(fp32) / us:.2f} | {distance.mean():.3f} / "
              f"{np.percentile(distance, 95):.3f} / {distance.max():.3f} |")


if __name__ == "__main__":
    main()
