"""Does a second pass help photos? Detector crop -> landmarks -> re-crop from them -> landmarks.

    python -m bench.second_pass --data cache/corpus2/manifest.jsonl [--weights W] [--split val]

Runs the app's pipeline on every still photo of the split (the detector frames the face, as for
a user's photo), with and without the second pass, matches each found face to its label by box
overlap, and prints NME, FR@0.10 and the faces found, people weighted once and per face.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.config import PipelineConfig
from core.geometry import box_iou
from core.images import read_rgb
from core.landmarks import as_68, layout_for
from core.metrics import failure_rate, nme
from core.pipeline import LandmarkPipeline
from core.tracker import points_box


def run(config: PipelineConfig, samples) -> tuple[np.ndarray, list, int]:
    pipe = LandmarkPipeline(config)
    pipe.prepare_for_source(live=False)
    errors, kept, missed = [], [], 0
    by_image: dict[Path, list] = {}
    for s in samples:
        by_image.setdefault(s.image, []).append(s)
    for image, faces in by_image.items():
        found = pipe.process(read_rgb(image), still=True).faces
        for s in faces:
            truth_box = points_box(s.points)
            match = max(found, key=lambda f: box_iou(f.box, truth_box), default=None)
            if match is None or box_iou(match.box, truth_box) < 0.3:
                missed += 1
                continue
            pred = match.points if len(match.points) == len(s.points) else as_68(match.points)
            errors.append(nme(pred, s.points, layout_for(len(s.points))))
            kept.append(s)
    pipe.close()
    return np.array(errors), kept, missed


def main(argv: list[str] | None = None) -> None:
    from training.datasets import load_samples
    from training.evaluate import person_weighted_nme
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--points", type=int, default=68)
    args = parser.parse_args(argv)
    samples = [s for s in load_samples(args.data, args.split) if not s.is_video_frame]
    base = PipelineConfig(points=args.points, weights=args.weights)
    print(f"{len(samples)} labelled faces in {len({s.image for s in samples})} photos ({args.split})\n")
    print("| second pass | faces found | NME, people weighted once | NME per face | FR@0.10 |")
    print("|---|---|---|---|---|")
    for on in (False, True):
        errors, kept, missed = run(replace(base, second_pass=on), samples)
        print(f"| {'on' if on else 'off'} | {len(kept)} of {len(kept) + missed} | "
              f"{person_weighted_nme(errors, kept):.4f} | {errors.mean():.4f} | {failure_rate(errors):.3f} |")


if __name__ == "__main__":
    main()
