"""Evaluate checkpoints on the validation people: NME, failure rate, AUC.

    python -m core.evaluate --manifest cache/corpus/manifest.jsonl \
        runs/student/best.pt runs/student_kd/best.pt runs/teacher/best.pt

NME is normalised by the outer eye corners (36/45 for 68 points, 60/72 for
98). Crops are framed from the labelled landmarks, as in 300-W practice.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from core.config import CropConfig
from core.data.datasets import FaceSample, _read_rgb, load_corpus
from core.geometry import crop_from_landmarks
from core.landmarks import layout_for
from core.metrics import auc, failure_rate, nme
from core.model import MobileFAN, count_parameters, load_checkpoint
from core.predictor import LandmarkPredictor


def predict_samples(model: MobileFAN, samples: list[FaceSample]) -> list[np.ndarray]:
    was_training = model.training
    predictor = LandmarkPredictor(model.eval())
    layout = layout_for(model.config.num_points)
    preds = []
    for s in samples:
        crop = crop_from_landmarks(s.points, layout, CropConfig())
        preds.append(predictor.predict(_read_rgb(str(s.image)), [crop])[0].points)
    model.train(was_training)
    return preds


def evaluate_samples(model: MobileFAN, samples: list[FaceSample]) -> dict[str, float]:
    layout = layout_for(model.config.num_points)
    preds = predict_samples(model, samples)
    errors = np.array([nme(p, s.points, layout) for p, s in zip(preds, samples)])
    return {"nme": float(errors.mean()), "fr10": failure_rate(errors), "auc10": auc(errors)}


def cross_check_98(model68: MobileFAN, model98: MobileFAN, samples: list[FaceSample]) -> dict[str, float]:
    """Agreement of the 98-point model with the 68-point one on the same faces
    (corresponding points, mean distance / interocular of the 68-point answer)."""
    from core.data.wflw_from_mesh import WFLW_TO_68
    groups = {"jaw": range(0, 17), "eyes": range(36, 48), "mouth": range(48, 68), "all": range(0, 68)}
    p68, p98 = predict_samples(model68, samples), predict_samples(model98, samples)
    out = {}
    for name, idx in groups.items():
        d = [np.linalg.norm(b[list(WFLW_TO_68)][list(idx)] - a[list(idx)], axis=1).mean()
             / np.linalg.norm(a[36] - a[45]) for a, b in zip(p68, p98)]
        out[name] = float(np.mean(d))
    return out


def ms_per_face(model: MobileFAN, repeats: int = 50) -> float:
    torch.set_num_threads(2)
    x = torch.rand(1, 3, model.config.input_size, model.config.input_size) * 255
    with torch.inference_mode():
        for _ in range(5):
            model(x)
        t = time.perf_counter()
        for _ in range(repeats):
            model(x)
    return (time.perf_counter() - t) / repeats * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--split", default="val")
    parser.add_argument("--cross-check", nargs=2, type=Path, metavar=("WEIGHTS68", "WEIGHTS98"),
                        help="also compare a 98-point model's jaw/eyes/mouth with a 68-point model's")
    args = parser.parse_args(argv)
    samples = load_corpus(args.manifest, args.split)
    photos = [s for s in samples if "frames" not in s.image.parts]
    print(f"{len(samples)} faces of {len({s.person for s in samples})} people ({args.split}); "
          f"{len(photos)} of them are still photos, the rest video frames\n")
    print("| model | NME | FR@0.10 | AUC@0.10 | NME photos only | params (M) | size (MB) | ms/face |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.checkpoints:
        loaded = load_checkpoint(path)
        m = evaluate_samples(loaded.model, samples)
        p = evaluate_samples(loaded.model, photos) if photos else {"nme": float("nan")}
        print(f"| {path} | {m['nme']:.4f} | {m['fr10']:.3f} | {m['auc10']:.3f} | {p['nme']:.4f} | "
              f"{count_parameters(loaded.model) / 1e6:.2f} | {path.stat().st_size / 1e6:.1f} | "
              f"{ms_per_face(loaded.model):.1f} |")
    if args.cross_check:
        m68, m98 = (load_checkpoint(p).model for p in args.cross_check)
        agreement = cross_check_98(m68, m98, samples)
        print("\n98-point vs 68-point model, corresponding points (mean distance / interocular)")
        print("| " + " | ".join(agreement) + " |\n|" + "---|" * len(agreement))
        print("| " + " | ".join(f"{v:.4f}" for v in agreement.values()) + " |")


if __name__ == "__main__":
    main()
