"""The distillation ablation: arms x seeds, same steps and data, mean +- std on the steering set.

    python -m training.ablation --data cache/corpus2/manifest_synth.jsonl \
        --val-data cache/corpus2/manifest.jsonl --teacher weights/mobilefan_68.pt \
        --init weights/mobilefan_68_small.pt --lr 5e-4 --epochs 2 --epoch-size 4096 \
        --out runs/ablation_small_ft --seeds 0 1 2

Each (arm, seed) is an ordinary resumable training run in OUT/ARM_sSEED; a run that finished
(its last.pt exists) is not trained again, and an interrupted one resumes exactly, so the whole
ablation may stop and resume over sessions by rerunning the same command. Every arm trains the
same student architecture (`--width`, `--input-size`, `--deconv-channels`) for the same number of
steps on the same data; only the distillation terms differ (Zhao et al. 2020, eq. 2 for FA and
eq. 3-4 for FS; see training/losses.py). Each run is scored by its *last* weights, not its
best epoch: choosing the best epoch on the set that is then reported would flatter every arm by
a different amount.
"""
from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import stats

from core.config import ENCODERS, TRUNK_ACTIVATIONS, ModelConfig
from core.model import load_checkpoint
from core.threads import set_thread_counts
from training.datasets import load_samples
from training.evaluate import bucket_table, cap_video_frames, face_errors
from training.train import TrainConfig, TrainingRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Arm:
    """One setting of the distillation terms; `teacher=False` trains without a teacher."""
    name: str
    fa_weight: float = 0.0
    fs_weight: float = 0.0
    soft_weight: float = 0.0               # the teacher's answers as targets (training/train.soft_targets)
    teacher: bool = True


ARMS = (
    Arm("none", teacher=False),
    Arm("FA", fa_weight=0.01),
    Arm("FS", fs_weight=0.01),
    Arm("FA+FS", fa_weight=0.01, fs_weight=0.01),          # the authors' weights
    Arm("FA+FS x10", fa_weight=0.1, fs_weight=0.1),        # another balance (our heatmap loss is scaled x100)
    Arm("soft", soft_weight=1.0),                          # the teacher's points on every augmented view
    Arm("soft+FA+FS", fa_weight=0.01, fs_weight=0.01, soft_weight=1.0),
)
REPORTED_BUCKETS = ("all", "yaw 20-45", "interocular <30 px", "interocular >80 px")


def run_config(base: TrainConfig, arm: Arm, seed: int, teacher: str, out: Path) -> TrainConfig:
    """The training config of one (arm, seed): the base with the arm's distillation terms."""
    return replace(base, out=str(out / f"{arm.name.replace(' ', '_').replace('+', '_')}_s{seed}"), seed=seed,
                   teacher=teacher if arm.teacher else None, fa_weight=arm.fa_weight, fs_weight=arm.fs_weight,
                   soft_weight=arm.soft_weight)


def score(weights: Path, samples) -> dict[str, float]:
    """People-weighted NME, per-face NME and FR@0.10 overall and per reported bucket."""
    errors = face_errors(load_checkpoint(weights).model, samples)
    rows = {r["bucket"]: r for r in bucket_table(errors, samples)}
    out = {"nme_person": rows["all"]["nme_person"], "nme_faces": rows["all"]["nme"], "fr10": rows["all"]["fr10"]}
    for name in REPORTED_BUCKETS[1:]:
        out[name] = rows[name]["nme_person"]
    return out


def summarise(results: dict[str, list[dict[str, float]]], baseline: str = "none") -> str:
    """A markdown table: mean +- std over seeds (sample std, n-1) of each measure, per arm; each
    arm's people-weighted NME against the baseline's as two independent samples (the difference
    of the means, Welch's t and its p); and the same difference taken seed by seed (mean +- std,
    paired t and p).

    Welch's comparison is the one to read. At one seed every arm starts from the same student
    weights and draws the same augmented crops in the same order (TrainingRun seeds both;
    tests/test_losses_and_training.py checks it), so pairing by seed looked as if it would cancel
    the seed's luck; it does not: plain training rerun at seed 0 on a fresh machine (same code and
    seed, the corpus rebuilt by its command) ended 0.0026 away from the first run, more than the
    spread between seeds, while two runs on one machine agree to the bit. Training is chaotic
    enough that two runs with any difference at all (a loss term, the CPU's rounding) end as far
    apart as two seeds, so the paired column is kept only to show that, and runs from any machine
    pool as independent samples.
    """
    keys = ["nme_person", "nme_faces", "fr10", *REPORTED_BUCKETS[1:]]
    heads = ["NME, people weighted", "per face", "FR@0.10", *(f"NME {b}" for b in REPORTED_BUCKETS[1:])]
    lines = ["| arm | seeds | " + " | ".join(heads) + f" | NME per seed | NME - {baseline}'s (Welch) "
             f"| NME - {baseline}'s, same seed |",
             "|---|---|" + "---|" * (len(keys) + 3)]
    base_runs = results.get(baseline, [])
    base = {r["seed"]: r["nme_person"] for r in base_runs}
    for arm, runs in results.items():
        cells = [_mean_std([r[k] for r in runs]) for k in keys]
        per_seed = ", ".join(f"{r['nme_person']:.4f}" for r in runs)
        welch = "-" if arm == baseline or not base_runs else _welch([r["nme_person"] for r in runs],
                                                                     [r["nme_person"] for r in base_runs])
        diffs = [r["nme_person"] - base[r["seed"]] for r in runs if r["seed"] in base]
        paired = "-" if arm == baseline or not diffs else f"{_mean_std(diffs, signed=True)} ({_paired_test(diffs)})"
        lines.append(f"| {arm} | {len(runs)} | " + " | ".join(cells) + f" | {per_seed} | {welch} | {paired} |")
    return "\n".join(lines)


def _welch(arm: list[float], base: list[float]) -> str:
    """The difference of the means, and where both samples have a spread, Welch's t (unequal
    variances) and its two-sided p."""
    diff = f"{np.mean(arm) - np.mean(base):+.4f}"
    if len(arm) < 2 or len(base) < 2 or (np.std(arm) == 0 and np.std(base) == 0):
        return diff
    t, p = stats.ttest_ind(arm, base, equal_var=False)
    return f"{diff} (t={t:+.2f}, p={p:.2f})"


def _paired_test(diffs: list[float]) -> str:
    """n, and where the differences vary, the paired t (one-sample t of the differences against 0)
    and its two-sided p: the number that says whether an arm's lead is more than the seeds' luck
    (p < 0.05), which a mean +- std beside a mean +- std cannot."""
    if len(diffs) < 2 or np.std(diffs) == 0:
        return f"n={len(diffs)}"
    t, p = stats.ttest_1samp(diffs, 0.0)
    return f"n={len(diffs)}, t={t:+.2f}, p={p:.3f}"


def _mean_std(values: list[float], signed: bool = False) -> str:
    """Mean +- sample std; one value alone has no spread, so it stands alone (no "+- nan")."""
    v = np.array(values)
    mean = f"{v.mean():+.4f}" if signed else f"{v.mean():.4f}"
    return f"{mean} +- {v.std(ddof=1):.4f}" if len(v) > 1 else mean


def base_config(args: argparse.Namespace) -> TrainConfig:
    """What every (arm, seed) shares: the student, its start, the data and the steps."""
    model = ModelConfig(num_points=68, input_size=args.input_size, encoder=args.encoder, width=args.width,
                        deconv_channels=args.deconv_channels, trunk_activation=args.trunk_activation)
    if args.init:       # the students' architecture is the starting point's
        model = load_checkpoint(args.init, expected_points=68).model.config
    return TrainConfig(data=args.data, out="", val_data=args.val_data, model=model, init=args.init,
                       pretrained=args.pretrained, encoder_lr_scale=args.encoder_lr_scale,
                       relu_fade_epochs=args.relu_fade_epochs,
                       epochs=args.epochs, epoch_size=args.epoch_size, lr=args.lr, threads=args.threads,
                       device=args.device, workers=args.workers)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="training manifest (its train split)")
    parser.add_argument("--val-data", help="scoring manifest (its val split); default: --data's")
    parser.add_argument("--teacher", required=True, help="the frozen teacher checkpoint")
    parser.add_argument("--init", help="start every student from these weights (a fine-tuning ablation); "
                                       "default: from scratch")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--arms", nargs="+", default=[a.name for a in ARMS], choices=[a.name for a in ARMS])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--epoch-size", type=int, default=8192)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--encoder", choices=ENCODERS, default="mobilenetv2",
                        help="the students' encoder: the paper's MobileNetV2 (--width), or MediaPipe's face-mesh "
                             "trunk, which every shipped model uses since round 16 (with --pretrained)")
    parser.add_argument("--pretrained", action="store_true",
                        help="face_mesh: every student starts its trunk from MediaPipe's weights (as shipped)")
    parser.add_argument("--encoder-lr-scale", type=float, default=1.0,
                        help="the encoder's learning rate x this (the shipped recipe: 0.1 on the pretrained trunk)")
    parser.add_argument("--trunk-activation", choices=TRUNK_ACTIVATIONS, default="prelu",
                        help="face_mesh: the trunk's activation (relu: the small model since round 19)")
    parser.add_argument("--relu-fade-epochs", type=float, default=0.0,
                        help="with --pretrained and --trunk-activation relu: epochs over which MediaPipe's PReLU "
                             "slopes fade to zero (training/train.py)")
    parser.add_argument("--width", type=float, default=0.5)
    parser.add_argument("--input-size", type=int, default=96)
    parser.add_argument("--deconv-channels", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    # On a lent GPU machine: the runs on its GPU and the augmentation on its many cores. Neither
    # changes what a seed draws (each crop is seeded by its place in the epoch); another machine's
    # rounding still makes its runs independent samples (see summarise), which Welch's column pools.
    parser.add_argument("--device", default="auto", help="auto (a CUDA GPU when there is one), cpu or cuda")
    parser.add_argument("--workers", type=int, default=1, help="data-loading processes per run")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: the table of the runs that have finished (a long ablation, midway)")
    return parser


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = make_parser().parse_args(argv)
    base = base_config(args)
    args.out.mkdir(parents=True, exist_ok=True)
    set_thread_counts(args.threads)
    samples = cap_video_frames(load_samples(args.val_data or args.data, "val"))
    results: dict[str, list[dict[str, float]]] = {}
    for arm in (a for a in ARMS if a.name in args.arms):
        for seed in args.seeds:
            cfg = run_config(base, arm, seed, args.teacher, args.out)
            out = Path(cfg.out)
            scored = out / "score.json"
            if not scored.exists():
                if args.report_only and not (out / "last.pt").exists():
                    continue
                if not (out / "last.pt").exists():
                    log.info("== %s, seed %d -> %s", arm.name, seed, out)
                    TrainingRun(cfg, resume=True).run()
                scored.write_text(json.dumps(score(out / "last.pt", samples)))
            results.setdefault(arm.name, []).append({**json.loads(scored.read_text()), "seed": seed})
    table = summarise(results)
    (args.out / "table.md").write_text(table + "\n")
    print(f"{len(samples)} faces of {len({s.person for s in samples})} people; last weights of each run\n")
    print(table)


if __name__ == "__main__":
    main()
