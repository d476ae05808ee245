"""Evaluate checkpoints on held-out people: NME, failure rate, AUC.

    python -m training.evaluate --data cache/corpus/manifest.jsonl \
        runs/student/best.pt runs/student_kd/best.pt runs/teacher/best.pt

NME is normalised by the outer eye corners (36/45 for 68 points, 60/72 for
98). Crops are framed from the labelled landmarks, as in 300-W practice, by
each model's own recorded framing. `framed_faces` is the one "frame the face
from its labels, read the image" path: evaluation, int8 calibration
(training/export.py) and the benchmarks all use it.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from core.geometry import Crop
from core.landmarks import as_68, interocular, layout_for
from core.metrics import auc, failure_rate, nme, region_errors_68
from core.model import MobileFAN, count_parameters, load_checkpoint
from core.predictor import LandmarkPredictor
from core.runtimes import HeatmapRunner
from core.torch_runners import TorchRunner
from training.datasets import FaceSample, load_samples, read_rgb_cached
from training.label_audit import face_key, read_exclusions


def framed_faces(predictor: LandmarkPredictor, samples: list[FaceSample]) -> Iterator[tuple[np.ndarray, Crop]]:
    """(RGB image, crop framed from the sample's labels the way the model was trained)."""
    for s in samples:
        yield read_rgb_cached(str(s.image)), predictor.crop_from_landmarks(s.points)


def predict_samples(model: MobileFAN, samples: list[FaceSample], runner: HeatmapRunner | None = None,
                    eyelids=None, mesh_blend=None, reframe: bool = False, mirror: bool = False) -> list[np.ndarray]:
    """The model's points on each sample; with `mesh_blend` (a core.mesh_blend.MeshBlend) blended
    with the face mesh's reading of them, then with `eyelids` (a core.eyelids.EyelidRefiner) the
    lids re-placed from the eye crops, in the app's order. Each face is framed from its labels;
    `reframe`: then framed again from that first answer and predicted anew, as the app frames a
    face it tracks or a photo's second pass, where no labels are known. `mirror`: the mesh reads
    each face mirrored too (as the app does where the face network runs mirrored)."""
    was_training = model.training
    predictor = LandmarkPredictor(model.config, runner or TorchRunner(model.eval()))
    preds = []
    for rgb, crop in framed_faces(predictor, samples):
        points = predictor.predict(rgb, [crop])[0].points
        if reframe:
            crop = predictor.crop_from_landmarks(points)
            points = predictor.predict(rgb, [crop])[0].points
        if mesh_blend is not None:
            points = mesh_blend.blend(rgb, [points], [crop], model.config.landmark_scale, mirror)[0]
        preds.append(eyelids.refine(rgb, [points])[0] if eyelids is not None else points)
    model.train(was_training)
    return preds


def sample_crops(model: MobileFAN, samples: list[FaceSample]) -> np.ndarray:
    """(N, 3, S, S) float32 network inputs of the samples (int8 calibration, benchmarks)."""
    predictor = LandmarkPredictor(model.config, TorchRunner(model))
    crops = [predictor.crops(rgb, [crop])[0] for rgb, crop in framed_faces(predictor, samples)]
    return np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32)


def face_errors(model: MobileFAN, samples: list[FaceSample], runner: HeatmapRunner | None = None,
                eyelids=None, mesh_blend=None, reframe: bool = False, mirror: bool = False) -> np.ndarray:
    """NME of each sample. A 98-point model scored against 68-point labels is scored on the
    68 points the layouts share (and normalised by those labels' eye corners)."""
    preds = predict_samples(model, samples, runner, eyelids, mesh_blend, reframe, mirror)
    out = []
    for p, s in zip(preds, samples):
        if len(p) != len(s.points):
            p = as_68(p)
        out.append(nme(p, s.points, layout_for(len(s.points))))
    return np.array(out)


def evaluate_samples(model: MobileFAN, samples: list[FaceSample], runner: HeatmapRunner | None = None
                     ) -> dict[str, float]:
    errors = face_errors(model, samples, runner)
    return {"nme": float(errors.mean()), "fr10": failure_rate(errors), "auc10": auc(errors)}


# ---- the validation set that steers: people weighted once, buckets by yaw, face size, colour ----
VIDEO_FRAMES_PER_PERSON = 20
FAILURE_NME = 0.10              # FR@0.10: a face whose NME is above this failed (listed by --buckets)
BUCKETS = {
    "yaw <20": lambda s: abs(s.facts.get("yaw_mesh", 99)) < 20,
    "yaw 20-45": lambda s: 20 <= abs(s.facts.get("yaw_mesh", 99)) <= 45,
    "yaw >45": lambda s: 45 < abs(s.facts.get("yaw_mesh", -1)),
    "interocular <30 px": lambda s: interocular(s.points, layout_for(len(s.points))) < 30,
    "interocular 30-80 px": lambda s: 30 <= interocular(s.points, layout_for(len(s.points))) <= 80,
    "interocular >80 px": lambda s: interocular(s.points, layout_for(len(s.points))) > 80,
    "grey / old photo": lambda s: bool(s.facts.get("grey", False)),
    "colour": lambda s: not s.facts.get("grey", False),
}


def cap_video_frames(samples: list[FaceSample], per_person: int = VIDEO_FRAMES_PER_PERSON) -> list[FaceSample]:
    """All still photos, and at most `per_person` video frames of each person (evenly spread):
    228 frames of one man must not outvote thirty people's photos."""
    frames: dict[str, list[FaceSample]] = {}
    out = []
    for s in samples:
        (frames.setdefault(s.person, []) if s.is_video_frame else out).append(s)
    for person_frames in frames.values():
        step = max(1, len(person_frames) // per_person)
        out += person_frames[::step][:per_person]
    return out


def person_weighted_nme(errors: np.ndarray, samples: list[FaceSample]) -> float:
    """Mean over people of each person's mean NME: each person counts once."""
    by_person: dict[str, list[float]] = {}
    for e, s in zip(errors, samples):
        by_person.setdefault(s.person, []).append(float(e))
    return float(np.mean([np.mean(v) for v in by_person.values()]))


def overall(errors: np.ndarray, samples: list[FaceSample]) -> dict:
    """All faces: NME per face and with people weighted once, FR and AUC (the trainer keeps epochs by it)."""
    return {"bucket": "all", "faces": len(samples), "people": len({s.person for s in samples}),
            "nme": float(errors.mean()), "nme_person": person_weighted_nme(errors, samples),
            "fr10": failure_rate(errors), "auc10": auc(errors)}


def bucket_table(errors: np.ndarray, samples: list[FaceSample]) -> list[dict]:
    """Rows: all faces (NME weighted per person too), then each bucket (faces, people, NME, FR, AUC)."""
    rows = [overall(errors, samples)]
    for name, member in BUCKETS.items():
        idx = [i for i, s in enumerate(samples) if member(s)]
        e = errors[idx]
        rows.append({"bucket": name, "faces": len(idx), "people": len({samples[i].person for i in idx}),
                     "nme": float(e.mean()) if len(e) else float("nan"),
                     "nme_person": person_weighted_nme(e, [samples[i] for i in idx]) if len(e) else float("nan"),
                     "fr10": failure_rate(e), "auc10": auc(e)})
    return rows


def cross_check_98(model68: MobileFAN, model98: MobileFAN, samples: list[FaceSample]) -> dict[str, float]:
    """Agreement of the 98-point model with the 68-point one on the same faces
    (corresponding points, mean distance / interocular of the 68-point answer)."""
    p68, p98 = predict_samples(model68, samples), predict_samples(model98, samples)
    layout = layout_for(68)
    per_face = [region_errors_68(as_68(b), a, layout) for a, b in zip(p68, p98)]
    return {name: float(np.mean([f[name] for f in per_face])) for name in ("jaw", "eyes", "mouth", "all")}


def ms_per_face(model: MobileFAN, repeats: int = 50) -> float:
    x = torch.rand(1, 3, model.config.input_size, model.config.input_size) * 255
    with torch.inference_mode():
        for _ in range(5):
            model(x)
        t = time.perf_counter()
        for _ in range(repeats):
            model(x)
    return (time.perf_counter() - t) / repeats * 1000


def runner_for(model: MobileFAN, checkpoint: Path, runtime: str, mirror: bool = False) -> HeatmapRunner:
    """The runner for `runtime` (eager PyTorch, or the app's runner for the others); an int8
    request without a matching export is an error here, not a quiet fp32 fallback.
    `mirror` wraps it in test-time mirroring (core/mirror_test.py)."""
    if runtime == "torch":
        runner = TorchRunner(model)
    else:
        from core.torch_runners import make_runner
        runner = make_runner(model, runtime, threads=2, checkpoint=checkpoint)
        if runtime != "auto" and runner.name != runtime:      # auto: whichever export the model ships
            raise ValueError(f"{checkpoint} has no {runtime} export that matches it")
    if mirror:
        from core.landmarks import layout_for
        from core.mirror_test import MirrorAveragingRunner
        return MirrorAveragingRunner(runner, layout_for(model.config.num_points))
    return runner


def main(argv: list[str] | None = None) -> None:
    from core.threads import set_thread_counts

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--data", "--manifest", dest="data", required=True,
                        help="manifest.jsonl, 300w:DIR or wflw:ANNOTATION:IMAGES")
    parser.add_argument("--split", default="val", help="manifest split to evaluate (default: val)")
    parser.add_argument("--cross-check", nargs=2, type=Path, metavar=("WEIGHTS68", "WEIGHTS98"),
                        help="also compare a 98-point model's jaw/eyes/mouth with a 68-point model's")
    parser.add_argument("--buckets", action="store_true",
                        help="the steering table: video frames capped per person, people weighted once, and "
                             "NME / FR / AUC per yaw, face-size and colour bucket, for each checkpoint")
    parser.add_argument("--eyelids", action="store_true",
                        help="re-place the lids with the eyelid network (core/eyelids.py), as the app does")
    parser.add_argument("--mesh-blend", action="store_true",
                        help="blend each answer with the face mesh's reading of it (core/mesh_blend.py), "
                             "as the app does for --model accurate, and for every model on photos")
    parser.add_argument("--reframe", action="store_true",
                        help="frame each face again from the model's first answer and predict anew, as the app "
                             "frames faces it tracks (default: framed from the labels only)")
    parser.add_argument("--runtime", default="torch",
                        help="run the checkpoints through this runtime (e.g. onnxruntime-int8, or auto: the export each "
                             "model ships, as the app runs it) instead of eager PyTorch")
    parser.add_argument("--mirror", action="store_true",
                        help="test-time mirroring: each face also run mirrored, the heatmaps averaged "
                             "(core/mirror_test.py)")
    parser.add_argument("--exclude", type=Path, metavar="AUDIT_JSON",
                        help="with --buckets, a second table per checkpoint without the faces a label audit "
                             "lists (training/label_audit.py: labels two readers agree are wrong)")
    args = parser.parse_args(argv)
    set_thread_counts(2)
    try:
        _report(args)
    except ValueError as exc:
        parser.error(str(exc))


def _print_buckets(errors: np.ndarray, samples: list[FaceSample]) -> None:
    """The bucket table, then the faces that failed."""
    print("| bucket | faces | people | NME | NME, people weighted once | FR@0.10 | AUC@0.10 |\n|---|---|---|---|---|---|---|")
    for r in bucket_table(errors, samples):
        print(f"| {r['bucket']} | {r['faces']} | {r['people']} | {r['nme']:.4f} | {r['nme_person']:.4f} | "
              f"{r['fr10']:.3f} | {r['auc10']:.3f} |")
    failed = [(float(e), s) for e, s in zip(errors, samples) if e > FAILURE_NME]
    if failed:
        print(f"\nfailed (NME > {FAILURE_NME}): " + ", ".join(
            f"{s.person}/{Path(s.image).name} {e:.3f}" for e, s in sorted(failed, key=lambda x: -x[0])))
    print()


def _report(args: argparse.Namespace) -> None:
    samples = load_samples(args.data, args.split)
    if args.buckets:
        samples = cap_video_frames(samples)
        print(f"{len(samples)} faces of {len({s.person for s in samples})} people ({args.split}; video frames capped "
              f"at {VIDEO_FRAMES_PER_PERSON} per person)\n")
        eyelids = blend = excluded = None
        if args.exclude is not None:
            excluded = read_exclusions(args.exclude)
        if args.eyelids:
            from core.eyelids import EyelidRefiner
            eyelids = EyelidRefiner()
        for path in args.checkpoints:
            model = load_checkpoint(path).model
            if args.mesh_blend:
                from core.mesh_blend import MeshBlend
                blend = MeshBlend(points=model.config.num_points)
            errors = face_errors(model, samples, runner_for(model, path, args.runtime, args.mirror), eyelids, blend,
                                 args.reframe, args.mirror)
            print(f"{path} ({args.runtime}{', mirrored' if args.mirror else ''}{', reframed' if args.reframe else ''}"
                  f"{', mesh blend' if blend else ''}"
                  f"{', eyelid net' if eyelids else ''})\n")
            _print_buckets(errors, samples)
            if excluded is not None:
                keep = np.array([face_key(s) not in excluded for s in samples])
                print(f"without the {int((~keep).sum())} faces whose labels {args.exclude} lists\n")
                _print_buckets(errors[keep], [s for s, k in zip(samples, keep) if k])
        return
    if args.exclude is not None:
        raise ValueError("--exclude goes with --buckets (the steering table)")
    photos = [s for s in samples if not s.is_video_frame]
    print(f"{len(samples)} faces of {len({s.person for s in samples})} people ({args.split}); "
          f"{len(photos)} of them are still photos, the rest video frames\n")
    print("| model | NME | FR@0.10 | AUC@0.10 | NME photos only | params (M) | size (MB) | ms/face |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.checkpoints:
        loaded = load_checkpoint(path)
        runner = runner_for(loaded.model, path, args.runtime, args.mirror)
        m = evaluate_samples(loaded.model, samples, runner)
        p = evaluate_samples(loaded.model, photos, runner) if photos else {"nme": float("nan")}
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
