"""Test-time crop jitter: does averaging a model's answers over shifted, scaled or turned crops help?

Mirroring each face (core/mirror_test.py) gains ~5% for the accurate model. This asks whether more
views of the same face gain more: each steering-set face is framed from its labels (as
training.evaluate frames it), then also from crops moved by a few percent of their side, scaled or
turned, and the points of all the crops are averaged in frame pixels. Printed for the network alone
and, for a 68-point model, blended with the face mesh as `--model accurate` runs:

    python -m bench.crop_jitter --weights weights/mobilefan_68_accurate.pt --mirror --mesh-blend

Accuracy, not timing: each extra crop costs one more network run per face (two when mirrored). One
run is the number; nothing here is random.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core.geometry import Crop
from core.landmarks import layout_for
from core.metrics import nme
from core.model import load_checkpoint
from core.predictor import LandmarkPredictor
from training.datasets import load_samples, read_rgb_cached
from training.evaluate import cap_video_frames, person_weighted_nme, runner_for

# Each view: (scale of the side, shift x and shift y as fractions of the side, turn in radians).
SHIFT = 0.03
SCALE = 0.07
TURN = 0.1
VIEWS: dict[str, list[tuple[float, float, float, float]]] = {
    "one crop": [(1, 0, 0, 0)],
    "3 scales": [(1, 0, 0, 0), (1 - SCALE, 0, 0, 0), (1 + SCALE, 0, 0, 0)],
    "5 shifts": [(1, 0, 0, 0), (1, SHIFT, 0, 0), (1, -SHIFT, 0, 0), (1, 0, SHIFT, 0), (1, 0, -SHIFT, 0)],
    "3 turns": [(1, 0, 0, 0), (1, 0, 0, TURN), (1, 0, 0, -TURN)],
}


def jittered(crop: Crop, view: tuple[float, float, float, float]) -> Crop:
    scale, dx, dy, turn = view
    return Crop(crop.cx + dx * crop.side, crop.cy + dy * crop.side, crop.side * scale, crop.angle + turn)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=Path, default=Path("weights/mobilefan_68_accurate.pt"))
    parser.add_argument("--data", default="cache/corpus2/manifest.jsonl")
    parser.add_argument("--runtime", default="auto")
    parser.add_argument("--mirror", action="store_true", help="each crop also run mirrored (core/mirror_test.py)")
    parser.add_argument("--mesh-blend", action="store_true",
                        help="also blend each averaged answer with the face mesh (68 points; core/mesh_blend.py)")
    args = parser.parse_args(argv)

    model = load_checkpoint(args.weights).model
    predictor = LandmarkPredictor(model.config, runner_for(model, args.weights, args.runtime, args.mirror))
    blend = None
    if args.mesh_blend:
        if model.config.num_points != 68:
            parser.error(f"this bench blends 68-point models only; {args.weights} has {model.config.num_points}")
        from core.mesh_blend import MeshBlend
        blend = MeshBlend()
    samples = cap_video_frames(load_samples(args.data, "val"))
    layout = layout_for(len(samples[0].points))
    errors = {name: ([], []) for name in VIEWS}
    for sample in samples:
        rgb = read_rgb_cached(str(sample.image))
        crop = predictor.crop_from_landmarks(sample.points)
        for name, views in VIEWS.items():
            points = np.mean([predictor.predict(rgb, [jittered(crop, v)])[0].points for v in views], axis=0)
            errors[name][0].append(nme(points, sample.points, layout))
            if blend is not None:
                blended = blend.blend(rgb, [points], [crop], model.config.landmark_scale, args.mirror)[0]
                errors[name][1].append(nme(blended, sample.points, layout))
    print(f"{args.weights}{', mirrored' if args.mirror else ''}: {len(samples)} faces of "
          f"{len({s.person for s in samples})} people (steering set), NME people weighted\n")
    print("| crops averaged | network runs a face | network | blended with the mesh |")
    print("|---|---|---|---|")
    for name, (alone, blended) in errors.items():
        runs = len(VIEWS[name]) * (2 if args.mirror else 1)
        with_mesh = f"{person_weighted_nme(np.array(blended), samples):.4f}" if blended else "-"
        print(f"| {name} | {runs} | {person_weighted_nme(np.array(alone), samples):.4f} | {with_mesh} |")


if __name__ == "__main__":
    main()
