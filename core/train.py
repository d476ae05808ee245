"""Train a MobileFAN teacher or student (optionally with feature distillation).

    # teacher: wider encoder and deconvolutions
    python -m core.train --manifest cache/corpus/manifest.jsonl --out runs/teacher \
        --width 1.4 --deconv-channels 256 --epochs 40
    # student distilled from it (MobileFAN, Zhao et al. 2020)
    python -m core.train --manifest cache/corpus/manifest.jsonl --out runs/student_kd \
        --teacher runs/teacher/best.pt --epochs 40
    # the same student without distillation, for the ablation
    python -m core.train --manifest cache/corpus/manifest.jsonl --out runs/student --epochs 40

A run checkpoints every few minutes into OUT/state.pt (model, adapters,
optimiser, epoch, batch, RNG) and `--resume` continues exactly where it
stopped: batch order and augmentation are functions of (seed, epoch, position in the epoch),
so an interrupted run and an uninterrupted one see the same data. The best
model by validation NME is written to OUT/best.pt in the app's format.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from core.config import CropConfig, ModelConfig
from core.data.augment import AugmentConfig
from core.data.datasets import EpochDraws, FaceCropDataset, FaceSample, load_corpus
from core.evaluate import evaluate_samples
from core.heatmap import render_heatmaps
from core.losses import FeatureAdapters, feature_aligned_loss, feature_similarity_loss, heatmap_loss
from core.model import MobileFAN, load_checkpoint, save_checkpoint


@dataclass
class TrainConfig:
    manifest: str
    out: str
    points: int = 68
    input_size: int = 128
    width: float = 1.0
    deconv_channels: int = 128
    teacher: str | None = None
    init: str | None = None          # start from these weights (fine-tuning); must match the architecture
    fa_weight: float = 1.0           # feature-aligned distillation weight
    fs_weight: float = 10.0          # feature-similarity distillation weight
    fs_levels: tuple[int, ...] = (0, 1)   # deconv levels (8x8, 16x16) whose similarity is distilled
    epochs: int = 40
    epoch_size: int = 4000           # samples drawn per epoch (weighted by person)
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 2
    workers: int = 1
    device: str = "auto"             # "auto" takes a CUDA GPU when there is one
    checkpoint_minutes: float = 3.0
    max_minutes: float | None = None   # stop (and checkpoint) after this much training time
    max_steps: int | None = None       # stop (and checkpoint) after this many steps in this invocation
    val_limit: int = 400


def person_weights(samples: list[FaceSample]) -> np.ndarray:
    """1/sqrt(faces of that person): thousands of frames of one man must not
    drown the single photos of hundreds of others."""
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.person] = counts.get(s.person, 0) + 1
    w = np.array([1.0 / math.sqrt(counts[s.person]) for s in samples])
    return w / w.sum()


def epoch_indices(weights: np.ndarray, size: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng((seed, 10_000 + epoch)).choice(len(weights), size=size, p=weights)


def _set_lr(optimizer: torch.optim.Optimizer, cfg: TrainConfig, step: int, total: int) -> float:
    warmup = min(200, total // 20)
    if step < warmup:
        lr = cfg.lr * (step + 1) / warmup
    else:
        lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def _single_threaded_worker(_: int) -> None:
    """Each loader worker is one process: threads inside it only fight the others."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA GPU is visible to PyTorch")
        torch.backends.cudnn.benchmark = True
    return torch.device(name)


def train(cfg: TrainConfig, resume: bool = False) -> Path:
    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(1)   # the parent's OpenCV work (evaluation crops) is small; keep forks simple
    device = pick_device(cfg.device)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state.pt"
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    train_samples = load_corpus(cfg.manifest, "train")
    val_samples = load_corpus(cfg.manifest, "val")[: cfg.val_limit]
    if not train_samples:
        raise SystemExit(f"{cfg.manifest} has no training faces")
    model_cfg = ModelConfig(num_points=cfg.points, input_size=cfg.input_size,
                            width=cfg.width, deconv_channels=cfg.deconv_channels)
    model = MobileFAN(model_cfg)
    if cfg.init:
        start = load_checkpoint(cfg.init, expected_points=cfg.points).model
        if start.config != model_cfg:
            raise SystemExit(f"--init {cfg.init}: its architecture {start.config} differs from this run's {model_cfg}")
        model.load_state_dict(start.state_dict())
    model = model.to(device)
    dataset = FaceCropDataset(train_samples, model_cfg, CropConfig(), AugmentConfig(), seed=cfg.seed)

    teacher = adapters = None
    if cfg.teacher:
        # Only hidden features are distilled, so a 68-point teacher can teach a 98-point student.
        teacher = load_checkpoint(cfg.teacher).model.to(device).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
        adapters = FeatureAdapters([model_cfg.deconv_channels] * 3,
                                   [teacher.config.deconv_channels] * 3).to(device)
    params = list(model.parameters()) + (list(adapters.parameters()) if adapters else [])
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    weights = person_weights(train_samples)
    steps_per_epoch = cfg.epoch_size // cfg.batch_size
    total_steps = cfg.epochs * steps_per_epoch
    start_epoch, start_batch, elapsed, best = 0, 0, 0.0, float("inf")
    if resume and state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        if adapters is not None and state.get("adapters"):
            adapters.load_state_dict(state["adapters"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, start_batch = state["epoch"], state["batch"]
        elapsed, best = state["elapsed"], state["best"]
        torch.set_rng_state(state["torch_rng"])
        np.random.set_state(state["numpy_rng"])
        random.setstate(state["python_rng"])
        print(f"resumed at epoch {start_epoch} batch {start_batch} ({elapsed / 60:.1f} min trained)")

    def save_state(epoch: int, batch: int) -> None:
        state = {"config": asdict(cfg), "model": model.state_dict(),
                 "adapters": adapters.state_dict() if adapters else None,
                 "optimizer": optimizer.state_dict(), "epoch": epoch, "batch": batch,
                 "elapsed": elapsed, "best": best, "torch_rng": torch.get_rng_state(),
                 "numpy_rng": np.random.get_state(), "python_rng": random.getstate()}
        torch.save(state, state_path.with_suffix(".tmp"))
        state_path.with_suffix(".tmp").replace(state_path)

    log = (out / "log.jsonl").open("a")
    last_ckpt = time.monotonic()
    steps_this_run = 0
    for epoch in range(start_epoch, cfg.epochs):
        indices = epoch_indices(weights, steps_per_epoch * cfg.batch_size, cfg.seed, epoch)
        skip = start_batch * cfg.batch_size if epoch == start_epoch else 0
        loader = DataLoader(EpochDraws(dataset, indices, epoch, start=skip), batch_size=cfg.batch_size,
                            shuffle=False, num_workers=cfg.workers, drop_last=True,
                            persistent_workers=False, pin_memory=device.type == "cuda",
                            worker_init_fn=_single_threaded_worker, prefetch_factor=4 if cfg.workers else None)
        model.train()
        sums = {"heatmap": 0.0, "fa": 0.0, "fs": 0.0}
        first_batch = skip // cfg.batch_size
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", initial=first_batch,
                   total=steps_per_epoch, leave=False)
        n = 0
        tick = time.monotonic()    # training time counts waits for data: on a GPU they are the cost
        for batch, (images, points) in enumerate(bar, start=first_batch):
            images = images.to(device, non_blocking=True).float()
            targets = render_heatmaps(points.to(device, non_blocking=True),
                                            model_cfg.heatmap_size, model_cfg.heatmap_sigma)
            lr = _set_lr(optimizer, cfg, epoch * steps_per_epoch + batch, total_steps)
            heatmaps, features = model.forward_with_features(images)
            loss_hm = heatmap_loss(heatmaps, targets)
            loss = loss_hm
            if teacher is not None:
                with torch.no_grad():
                    _, teacher_features = teacher.forward_with_features(images)
                loss_fa = feature_aligned_loss(adapters(features), teacher_features)
                loss_fs = feature_similarity_loss([features[i] for i in cfg.fs_levels],
                                                  [teacher_features[i] for i in cfg.fs_levels])
                loss = loss + cfg.fa_weight * loss_fa + cfg.fs_weight * loss_fs
                sums["fa"] += loss_fa.item()
                sums["fs"] += loss_fs.item()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sums["heatmap"] += loss_hm.item()
            n += 1
            steps_this_run += 1
            now = time.monotonic()
            elapsed, tick = elapsed + now - tick, now
            bar.set_postfix(loss=f"{loss_hm.item():.3f}", lr=f"{lr:.1e}")
            out_of_time = (cfg.max_minutes is not None and elapsed >= cfg.max_minutes * 60) or \
                (cfg.max_steps is not None and steps_this_run >= cfg.max_steps)
            if time.monotonic() - last_ckpt > cfg.checkpoint_minutes * 60 or out_of_time:
                save_state(epoch, batch + 1)
                last_ckpt = time.monotonic()
            if out_of_time:
                print("stopping at the time/step budget (continue with --resume)")
                log.close()
                return out / "best.pt"
        bar.close()
        metrics = evaluate_samples(model, val_samples) if val_samples else {"nme": float("nan")}
        record = {"epoch": epoch + 1, "elapsed_min": round(elapsed / 60, 2),
                  **{f"loss_{k}": round(v / max(n, 1), 5) for k, v in sums.items()},
                  **{f"val_{k}": round(v, 5) for k, v in metrics.items()}}
        print(json.dumps(record))
        log.write(json.dumps(record) + "\n")
        log.flush()
        if metrics["nme"] < best or not (out / "best.pt").exists():
            best = min(best, metrics["nme"])
            save_checkpoint(model, out / "best.pt", meta={
                "role": "student" if cfg.width <= 1.0 else "teacher", "epoch": epoch + 1,
                "val_nme": metrics["nme"], "distilled_from": cfg.teacher, "train_config": asdict(cfg)})
        save_state(epoch + 1, 0)
        last_ckpt = time.monotonic()
    log.close()
    save_checkpoint(model, out / "last.pt", meta={"epoch": cfg.epochs, "train_config": asdict(cfg)})
    return out / "best.pt"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = TrainConfig(manifest="", out="")
    parser.add_argument("--manifest", required=True, help="corpus manifest.jsonl")
    parser.add_argument("--out", required=True, help="run folder (state.pt, best.pt, log.jsonl)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/state.pt")
    for name in ("points", "input_size", "width", "deconv_channels", "teacher", "init", "fa_weight", "fs_weight",
                 "epochs", "epoch_size", "batch_size", "lr", "seed", "threads", "workers", "device",
                 "checkpoint_minutes", "max_minutes", "max_steps", "val_limit"):
        default = getattr(defaults, name)
        kind = type(default) if default is not None else {"teacher": str, "init": str, "max_steps": int}.get(name, float)
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=default)
    args = vars(parser.parse_args(argv))
    resume = args.pop("resume")
    print(f"best model: {train(TrainConfig(**args), resume=resume)}")


if __name__ == "__main__":
    main()
