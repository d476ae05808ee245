"""Train a MobileFAN teacher or student (optionally with feature distillation).

    # teacher: wider encoder and deconvolutions
    python -m training.train --data cache/corpus/manifest.jsonl --out runs/teacher \
        --width 1.4 --deconv-channels 256 --epochs 40
    # student distilled from it (MobileFAN, Zhao et al. 2020)
    python -m training.train --data cache/corpus/manifest.jsonl --out runs/student_kd \
        --teacher runs/teacher/best.pt --epochs 40
    # the same student without distillation, for the ablation
    python -m training.train --data cache/corpus/manifest.jsonl --out runs/student --epochs 40
    # 300-W or WFLW, for users who have them
    python -m training.train --data 300w:data/300W/train --val-data 300w:data/300W/test --out runs/300w

A run checkpoints every few minutes into OUT/state.pt (model, adapters,
optimiser, epoch, batch, RNG) and `--resume` continues exactly where it
stopped: batch order and augmentation are functions of (seed, epoch, position in the epoch),
so an interrupted run and an uninterrupted one see the same data. The best
model by validation NME is written to OUT/best.pt in the app's format, and
its checkpoint records the crop framing and heatmap sigma it was trained with.
Every option is a field of `TrainConfig` (or of its `ModelConfig`); the
command line is generated from them.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from core.config import ModelConfig
from core.face_mesh_net import load_trunk_weights, set_relu_fade
from core.model import MobileFAN, load_checkpoint, save_checkpoint
from core.threads import set_thread_counts
from training.augment import AugmentConfig
from training.datasets import EpochDraws, FaceCrops, FaceSample, load_samples
from training.evaluate import cap_video_frames, face_errors, overall
from training.losses import FeatureAdapters, feature_aligned_loss, feature_similarity_loss, heatmap_loss
from training.targets import render_heatmaps
from core.errors import MobileFANError

log = logging.getLogger(__name__)


class TrainingError(MobileFANError):
    """A run that cannot start: no data, a mismatched --init, no GPU for --device cuda."""


@dataclass
class TrainConfig:
    data: str                        # training data spec: manifest.jsonl (its train split), 300w:DIR, wflw:ANN:IMAGES
    out: str                         # run folder (state.pt, best.pt, last.pt, log.jsonl)
    val_data: str | None = None      # validation data spec; default: the manifest's val split
    model: ModelConfig = field(default_factory=ModelConfig)
    teacher: str | None = None       # distil from this checkpoint's hidden features
    init: str | None = None          # start from these weights (fine-tuning); must match the architecture
    # Start only the encoder from this checkpoint's (its decoder and head may differ: a new decoder on a
    # trunk already fine-tuned on this corpus). The encoder's architecture and input size must match.
    init_encoder: str | None = None
    pretrained: bool = False         # encoder face_mesh: start from MediaPipe's trained trunk (in its wheel)
    encoder_lr_scale: float = 1.0    # the encoder's learning rate x this (0 freezes it): fine-tune a trunk gently
    # --trunk-activation relu started from a PReLU trunk (--pretrained, --init-encoder): its slopes fade
    # linearly to 0 over this many epochs (core/face_mesh_net.FadingPReLU); 0 cuts them at once.
    relu_fade_epochs: float = 0.0
    fa_weight: float = 0.01          # feature-aligned distillation weight (the authors' 0.01)
    fs_weight: float = 0.01          # feature-similarity distillation weight (the authors' 0.01)
    fa_levels: tuple[int, ...] = (0, 1, 2)   # decoder stages whose features are aligned (all three, as the paper)
    fs_levels: tuple[int, ...] = (0, 1, 2)   # decoder stages whose similarity is distilled
    plain_adapters: bool = False     # 1x1 conv adapters without BN + ReLU (this project's earlier rounds)
    # The teacher's answers as targets beside the labels' (same layout only): its points on every
    # augmented view (also the turned, small and degraded ones dlib never labelled), drawn as the
    # labels are (training/train.soft_targets).
    soft_weight: float = 0.0
    # Learning without forgetting (face_mesh encoder, 192 px; training/keep_mesh.py): the wheel's mesh head,
    # frozen, reads the trained trunk, and its mesh is kept near the original network's on the same crops
    # (mean squared difference in input pixels, x this weight). 0: off.
    keep_mesh_weight: float = 0.0
    eye_weight: float = 1.0          # heatmap loss weight of the eye points (the others 1; renormalised to mean 1)
    closed_eye_boost: float = 1.0    # sampling weight x this for faces whose labels have the eyes closed
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
    val_limit: int = 1000             # validation faces at most (after capping video frames per person)
    people_fraction: float = 1.0      # train on this share of the training people (the people learning curve)


def person_weights(samples: list[FaceSample]) -> np.ndarray:
    """1/sqrt(faces of that person): thousands of frames of one man must not
    drown the single photos of hundreds of others."""
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.person] = counts.get(s.person, 0) + 1
    w = np.array([1.0 / math.sqrt(counts[s.person]) for s in samples])
    return w / w.sum()


CLOSED_EAR = 0.2      # label EAR below this: the eyes are (nearly) closed


def closed_eye_weights(samples: list[FaceSample], boost: float) -> np.ndarray:
    """x `boost` for faces labelled with closed eyes: blinks are rare frames of a video."""
    from core.face_measures import eye_aspect_ratios
    if boost == 1.0:
        return np.ones(len(samples))
    return np.array([boost if np.mean(eye_aspect_ratios(s.points)) < CLOSED_EAR else 1.0 for s in samples])


def point_weights(num_points: int, eye_weight: float) -> torch.Tensor:
    """Per-landmark heatmap loss weights, mean 1: the eye contours (and pupils) x `eye_weight`."""
    w = torch.ones(num_points)
    eyes = list(range(36, 48)) if num_points == 68 else list(range(60, 76)) + [96, 97]
    w[eyes] = eye_weight
    return w * num_points / w.sum()


def epoch_indices(weights: np.ndarray, size: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng((seed, 10_000 + epoch)).choice(len(weights), size=size, p=weights)


def some_people(samples: list[FaceSample], fraction: float) -> list[FaceSample]:
    """Every face of `fraction` of the people (at least one). The people are taken in one fixed
    shuffled order, whatever the seed, so a smaller share is part of every larger one."""
    if fraction >= 1.0:
        return samples
    people = sorted({s.person for s in samples})
    order = np.random.default_rng(20261201).permutation(len(people))
    chosen = {people[i] for i in order[:max(1, math.ceil(fraction * len(people)))]}
    log.info("training on %d of %d people", len(chosen), len(people))
    return [s for s in samples if s.person in chosen]


def soft_targets(teacher_heatmaps: torch.Tensor, student: ModelConfig, teacher: ModelConfig) -> torch.Tensor:
    """The teacher's answer as the student's target: its heatmaps decoded to points as the app
    decodes them (DARK, core/heatmap.py), moved to the student's grid (the two see the same crop
    at different sizes) and drawn as the labels are, with the student's sigma. Drawing the
    points, rather than resizing the teacher's maps, keeps one target shape for both terms."""
    from core.heatmap import decode_heatmaps, heatmap_to_input, input_to_heatmap
    points, _ = decode_heatmaps(teacher_heatmaps.detach().float().cpu().numpy())
    in_teacher = heatmap_to_input(points, teacher.input_size, teacher.heatmap_size)
    in_student = (in_teacher + 0.5) * (student.input_size / teacher.input_size) - 0.5
    grid = input_to_heatmap(in_student, student.input_size, student.heatmap_size)
    return render_heatmaps(torch.from_numpy(grid).to(teacher_heatmaps.device), student.heatmap_size,
                           student.heatmap_sigma)


def learning_rate(cfg: TrainConfig, step: int, total: int) -> float:
    """Linear warm-up, then cosine decay to zero."""
    warmup = min(200, total // 20)
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def _single_threaded_worker(_: int) -> None:
    """Each loader worker is one process: threads inside it only fight the others."""
    set_thread_counts(1)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainingError("--device cuda: no CUDA GPU is visible to PyTorch")
        torch.backends.cudnn.benchmark = True
    return torch.device(name)


class TrainingRun:
    """One run: data, student (and teacher), optimiser, and the state that makes it resumable."""

    def __init__(self, cfg: TrainConfig, resume: bool = False) -> None:
        self.cfg = cfg
        set_thread_counts(cfg.threads, opencv_threads=1)   # the parent's OpenCV work is small
        self.device = pick_device(cfg.device)
        self.out = Path(cfg.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.state_path = self.out / "state.pt"
        random.seed(cfg.seed)
        np.random.seed(cfg.seed)
        torch.manual_seed(cfg.seed)

        self.train_samples = some_people(load_samples(cfg.data, "train"), cfg.people_fraction)
        # The steering set: every validation photo, video frames capped per person, people weighted once.
        # A manifest given as --val-data gives its val split too (its train split is what we train on);
        # a 300-W or WFLW folder has no splits and is read whole.
        self.val_samples = cap_video_frames(load_samples(cfg.val_data or cfg.data, "val"))[: cfg.val_limit]
        if not self.train_samples:
            raise TrainingError(f"{cfg.data} has no training faces")
        self.model = self._build_student().to(self.device)
        self.crops = FaceCrops(self.train_samples, cfg.model, AugmentConfig(), seed=cfg.seed)
        self.teacher, self.adapters = self._build_teacher()
        self.keeper, self._trunk_features = self._build_keeper(), None
        self.optimizer = torch.optim.AdamW(self._param_groups(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        weights = person_weights(self.train_samples) * closed_eye_weights(self.train_samples, cfg.closed_eye_boost)
        self.weights = weights / weights.sum()
        self.point_weights = point_weights(cfg.model.num_points, cfg.eye_weight).to(self.device) \
            if cfg.eye_weight != 1.0 else None
        self.steps_per_epoch = cfg.epoch_size // cfg.batch_size
        self.total_steps = cfg.epochs * self.steps_per_epoch
        self.epoch, self.batch, self.elapsed, self.best = 0, 0, 0.0, float("inf")
        self.fade_steps = round(cfg.relu_fade_epochs * self.steps_per_epoch)
        if self.fade_steps and cfg.model.trunk_activation != "relu":
            raise TrainingError("--relu-fade-epochs fades a PReLU trunk into a ReLU one: use it with "
                                "--trunk-activation relu")
        if cfg.relu_fade_epochs > cfg.epochs:
            raise TrainingError(f"--relu-fade-epochs {cfg.relu_fade_epochs} is longer than the run ({cfg.epochs} "
                                "epochs): its last weights would still lean on the fading slopes")
        if resume and self.state_path.exists():
            self._restore()

    def _param_groups(self) -> list[dict]:
        """The encoder at `encoder_lr_scale` x the learning rate (frozen at 0), the rest at 1x."""
        encoder = list(self.model.encoder.parameters())
        rest = [p for n, p in self.model.named_parameters() if not n.startswith("encoder.")]
        rest += list(self.adapters.parameters()) if self.adapters else []
        if self.cfg.encoder_lr_scale == 0:
            for p in encoder:
                p.requires_grad_(False)
            return [{"params": rest, "lr_scale": 1.0}]
        return [{"params": encoder, "lr_scale": self.cfg.encoder_lr_scale}, {"params": rest, "lr_scale": 1.0}]

    def _build_student(self) -> MobileFAN:
        model = MobileFAN(self.cfg.model)
        if self.cfg.pretrained:
            if self.cfg.model.encoder != "face_mesh":
                raise TrainingError("--pretrained starts the face_mesh encoder from MediaPipe's weights; "
                                    "use it with --encoder face_mesh")
            from training.tflite_weights import load_face_mesh_net
            load_trunk_weights(model.encoder, load_face_mesh_net().trunk.state_dict())
        if self.cfg.init:
            start = load_checkpoint(self.cfg.init, expected_points=self.cfg.model.num_points).model
            if start.config != self.cfg.model:
                raise TrainingError(f"--init {self.cfg.init}: its architecture {start.config} differs from "
                                    f"this run's {self.cfg.model}")
            model.load_state_dict(start.state_dict())
        if self.cfg.init_encoder:
            start = load_checkpoint(self.cfg.init_encoder).model
            mine, theirs = self.cfg.model, start.config
            if (mine.encoder, mine.width, mine.input_size) != (theirs.encoder, theirs.width, theirs.input_size):
                raise TrainingError(f"--init-encoder {self.cfg.init_encoder}: its encoder ({theirs.encoder}, width "
                                    f"{theirs.width}, {theirs.input_size} px) differs from this run's ({mine.encoder}, "
                                    f"width {mine.width}, {mine.input_size} px)")
            if theirs.trunk_activation == "relu" and mine.trunk_activation != "relu":
                raise TrainingError(f"--init-encoder {self.cfg.init_encoder}: a ReLU trunk cannot start a PReLU one")
            if mine.encoder == "face_mesh":
                load_trunk_weights(model.encoder, start.encoder.state_dict())
            else:
                model.encoder.load_state_dict(start.encoder.state_dict())
        return model

    def _build_teacher(self) -> tuple[MobileFAN | None, FeatureAdapters | None]:
        if not self.cfg.teacher:
            return None, None
        # Only hidden features are distilled, so a 68-point teacher can teach a 98-point student.
        teacher = load_checkpoint(self.cfg.teacher).model.to(self.device).eval()
        if self.cfg.soft_weight and teacher.config.num_points != self.cfg.model.num_points:
            raise TrainingError(f"--soft-weight: the teacher answers {teacher.config.num_points} points, the student "
                                f"{self.cfg.model.num_points}; only hidden features transfer across layouts")
        for p in teacher.parameters():
            p.requires_grad_(False)
        levels = len(self.cfg.fa_levels)
        adapters = FeatureAdapters([self.cfg.model.deconv_channels] * levels, [teacher.config.deconv_channels] * levels,
                                   plain=self.cfg.plain_adapters)
        return teacher, adapters.to(self.device)

    def _build_keeper(self):
        """The mesh keeper (training/keep_mesh.py), and a hook that hands it the trunk's features
        from the student's own forward pass (no second run of the trunk)."""
        if not self.cfg.keep_mesh_weight:
            return None
        from training.keep_mesh import MESH_INPUT_SIZE, MeshKeeper, reads_mesh
        from training.tflite_weights import load_face_mesh_net
        model = self.cfg.model
        if not reads_mesh(model):
            raise TrainingError(f"--keep-mesh-weight keeps the face mesh's reading: it needs --encoder face_mesh "
                                f"at --input-size {MESH_INPUT_SIZE} (got {model.encoder} at {model.input_size} px)")

        def keep(_module, _inputs, output) -> None:
            self._trunk_features = output
        self.model.encoder.register_forward_hook(keep)
        return MeshKeeper(load_face_mesh_net()).to(self.device)

    # ---- resumable state ----------------------------------------------------------------------
    def _restore(self) -> None:
        state = torch.load(self.state_path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(state["model"])
        if self.adapters is not None and state.get("adapters"):
            self.adapters.load_state_dict(state["adapters"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch, self.batch = state["epoch"], state["batch"]
        self.elapsed, self.best = state["elapsed"], state["best"]
        torch.set_rng_state(state["torch_rng"])
        np.random.set_state(state["numpy_rng"])
        random.setstate(state["python_rng"])
        log.info("resumed at epoch %d batch %d (%.1f min trained)", self.epoch, self.batch, self.elapsed / 60)

    def _save_state(self) -> None:
        state = {"config": asdict(self.cfg), "model": self.model.state_dict(),
                 "adapters": self.adapters.state_dict() if self.adapters else None,
                 "optimizer": self.optimizer.state_dict(), "epoch": self.epoch, "batch": self.batch,
                 "elapsed": self.elapsed, "best": self.best, "torch_rng": torch.get_rng_state(),
                 "numpy_rng": np.random.get_state(), "python_rng": random.getstate()}
        tmp = self.state_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.state_path)

    # ---- training -------------------------------------------------------------------------------
    def _loader(self, epoch: int, skip_batches: int) -> DataLoader:
        cfg = self.cfg
        indices = epoch_indices(self.weights, self.steps_per_epoch * cfg.batch_size, cfg.seed, epoch)
        draws = EpochDraws(self.crops, indices, epoch, start=skip_batches * cfg.batch_size)
        return DataLoader(draws, batch_size=cfg.batch_size, shuffle=False, num_workers=cfg.workers, drop_last=True,
                          persistent_workers=False, pin_memory=self.device.type == "cuda",
                          worker_init_fn=_single_threaded_worker, prefetch_factor=4 if cfg.workers else None)

    def _fade(self, steps_done: int) -> float:
        """The ReLU trunk's PReLU share after `steps_done` steps: 1 -> 0 over `relu_fade_epochs`."""
        return max(0.0, 1.0 - steps_done / self.fade_steps) if self.fade_steps else 0.0

    def _step(self, images: torch.Tensor, points: torch.Tensor, step: int, sums: dict[str, float | None]) -> float:
        cfg = self.cfg
        if self.fade_steps:
            set_relu_fade(self.model, self._fade(step))
        images = images.to(self.device, non_blocking=True).float()
        targets = render_heatmaps(points.to(self.device, non_blocking=True),
                                  cfg.model.heatmap_size, cfg.model.heatmap_sigma)
        lr = learning_rate(cfg, step, self.total_steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        heatmaps, features = self.model.forward_with_features(images)
        loss_hm = heatmap_loss(heatmaps, targets, point_weights=self.point_weights)
        loss = loss_hm
        if self.teacher is not None:
            with torch.no_grad():
                teacher_heatmaps, teacher_features = self._teacher_features(images, features)
            # Only the terms with a weight are computed (the others are logged as null): with weight 0
            # a term adds nothing to any gradient, and the similarity term's N x N maps (a million
            # entries per image at a 32 x 32 stage, for the student and the teacher) cost more than
            # the rest of the step, so the FA and soft arms of an ablation ran ~4x slower than plain
            # training while computing it for nothing.
            if cfg.fa_weight:
                loss_fa = feature_aligned_loss(self.adapters([features[i] for i in cfg.fa_levels]),
                                               [teacher_features[i] for i in cfg.fa_levels])
                loss = loss + cfg.fa_weight * loss_fa
                sums["fa"] = (sums["fa"] or 0.0) + loss_fa.item()
            if cfg.fs_weight:
                loss_fs = feature_similarity_loss([features[i] for i in cfg.fs_levels],
                                                  [teacher_features[i] for i in cfg.fs_levels])
                loss = loss + cfg.fs_weight * loss_fs
                sums["fs"] = (sums["fs"] or 0.0) + loss_fs.item()
            if cfg.soft_weight:
                loss_soft = heatmap_loss(heatmaps, soft_targets(teacher_heatmaps, cfg.model, self.teacher.config),
                                         point_weights=self.point_weights)
                loss = loss + cfg.soft_weight * loss_soft
                sums["soft"] = (sums["soft"] or 0.0) + loss_soft.item()
        if self.keeper is not None:
            loss_keep = self.keeper.loss(images, self._trunk_features)
            self._trunk_features = None
            loss = loss + cfg.keep_mesh_weight * loss_keep
            sums["keep_mesh"] = (sums["keep_mesh"] or 0.0) + loss_keep.item()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        sums["heatmap"] += loss_hm.item()
        return lr

    def _teacher_features(self, images: torch.Tensor, student_features: list[torch.Tensor]
                          ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The teacher's heatmaps and features of the same crops. A teacher trained at another
        input size (a 192 px teacher for a 128 px student) sees the crops resized to its size, and
        its features are resized to the student's grids, so both look at the same face at the
        same places."""
        size = self.teacher.config.input_size
        if images.shape[-1] != size:
            images = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", align_corners=False,
                                                     antialias=images.shape[-1] > size)
        heatmaps, features = self.teacher.forward_with_features(images)
        return heatmaps, [t if t.shape[-2:] == s.shape[-2:] else
                          torch.nn.functional.interpolate(t, size=s.shape[-2:], mode="bilinear", align_corners=False)
                          for t, s in zip(features, student_features)]

    def _end_epoch(self, sums: dict[str, float | None], steps: int) -> None:
        # Validated as the next step would train it; while the slopes still fade, the network differs
        # from what its checkpoint would load as (a plain ReLU trunk), so no best.pt is written.
        fade = self._fade((self.epoch + 1) * self.steps_per_epoch)
        set_relu_fade(self.model, fade)
        metrics = {"nme": float("nan")}
        if self.val_samples:
            row = overall(face_errors(self.model, self.val_samples), self.val_samples)
            metrics = {"nme": row["nme_person"], "nme_faces": row["nme"], "fr10": row["fr10"], "auc10": row["auc10"]}
        record = {"epoch": self.epoch + 1, "elapsed_min": round(self.elapsed / 60, 2),
                  **({"relu_fade": round(fade, 4)} if self.fade_steps else {}),
                  **{f"loss_{k}": None if v is None else round(v / max(steps, 1), 5) for k, v in sums.items()},
                  **{f"val_{k}": round(v, 5) for k, v in metrics.items()}}
        log.info(json.dumps(record))
        with (self.out / "log.jsonl").open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        if fade > 0:
            return
        if metrics["nme"] < self.best or not (self.out / "best.pt").exists():
            self.best = min(self.best, metrics["nme"])
            save_checkpoint(self.model, self.out / "best.pt", meta={
                "role": "teacher" if self.cfg.model.encoder == "face_mesh" or self.cfg.model.width > 1.0
                else "student", "epoch": self.epoch + 1,
                "val_nme_people": metrics["nme"], "distilled_from": self.cfg.teacher,
                "train_config": asdict(self.cfg)})

    def run(self) -> Path:
        """Train to the end, or to the time/step budget (then resume with `resume=True`)."""
        cfg = self.cfg
        last_checkpoint = time.monotonic()
        steps_this_run = 0
        while self.epoch < cfg.epochs:
            self.model.train()
            sums: dict[str, float | None] = {"heatmap": 0.0, "fa": None, "fs": None, "soft": None,
                                             "keep_mesh": None}
            steps = 0
            bar = tqdm(self._loader(self.epoch, self.batch), desc=f"epoch {self.epoch + 1}/{cfg.epochs}",
                       initial=self.batch, total=self.steps_per_epoch, leave=False)
            tick = time.monotonic()    # training time counts waits for data: on a GPU they are the cost
            for images, points in bar:
                lr = self._step(images, points, self.epoch * self.steps_per_epoch + self.batch, sums)
                self.batch += 1
                steps += 1
                steps_this_run += 1
                now = time.monotonic()
                self.elapsed, tick = self.elapsed + now - tick, now
                bar.set_postfix(loss=f"{sums['heatmap'] / steps:.3f}", lr=f"{lr:.1e}")
                out_of_budget = (cfg.max_minutes is not None and self.elapsed >= cfg.max_minutes * 60) or \
                    (cfg.max_steps is not None and steps_this_run >= cfg.max_steps)
                if now - last_checkpoint > cfg.checkpoint_minutes * 60 or out_of_budget:
                    self._save_state()
                    last_checkpoint = time.monotonic()
                if out_of_budget:
                    bar.close()
                    log.info("stopping at the time/step budget (continue with --resume)")
                    return self.out / "best.pt"
            bar.close()
            self._end_epoch(sums, steps)
            self.epoch, self.batch = self.epoch + 1, 0
            self._save_state()
            last_checkpoint = time.monotonic()
        save_checkpoint(self.model, self.out / "last.pt", meta={"epoch": cfg.epochs, "train_config": asdict(cfg)})
        return self.out / "best.pt"


def train(cfg: TrainConfig, resume: bool = False) -> Path:
    return TrainingRun(cfg, resume).run()


# ---- command line, generated from the dataclasses ------------------------------------------------
_CLI_NAMES = {"num_points": "points"}           # ModelConfig.num_points is --points


def _parse_type(hint) -> typing.Callable[[str], object]:
    """The argparse type of a field: `X | None` parses as X, `tuple[int, ...]` from "1,2"."""
    base = hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        base = next(a for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(base) is tuple:
        item = typing.get_args(base)[0]
        return lambda text: tuple(item(v) for v in text.split(",") if v.strip())
    return base


def _add_fields(parser: argparse.ArgumentParser, cls, prefix_help: str = "") -> None:
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if f.name == "model":
            continue
        name = _CLI_NAMES.get(f.name, f.name)
        required = f.default is MISSING and f.default_factory is MISSING
        default = None if required else (f.default if f.default is not MISSING else f.default_factory())
        flags = ["--" + name.replace("_", "-")]
        if name == "data":
            flags.append("--manifest")           # the name used before 300-W/WFLW specs existed
        if hints[f.name] is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                                help=f"{prefix_help}(default: {default})")
            continue
        parser.add_argument(*flags, dest=f.name, type=_parse_type(hints[f.name]), required=required,
                            default=default, help=f"{prefix_help}(default: {default})" if not required else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/state.pt")
    _add_fields(parser, TrainConfig)
    _add_fields(parser, ModelConfig, "model: ")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    values = vars(args)
    model = ModelConfig(**{f.name: values.pop(f.name) for f in fields(ModelConfig)})
    values.pop("resume", None)
    return replace(TrainConfig(**values), model=model)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    resume = args.resume
    try:
        best = train(config_from_args(args), resume=resume)
    except TrainingError as exc:
        log.error("error: %s", exc)
        return 2
    log.info("best model: %s", best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
