"""Face samples from the corpus manifest and from the standard data sets.

Every loader returns plain `FaceSample`s (image path + landmarks); one
`FaceCrops` turns any of them into network inputs and target points, and
`EpochDraws` serves one epoch's draws to a DataLoader. 300-W (.pts beside
each image, 68 points) and WFLW (one annotation .txt, 98 points) are
supported so that users with those data sets can train (`--data 300w:DIR`,
`--data wflw:ANNOTATION:IMAGES`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from core.config import ModelConfig
from core.geometry import crop_from_landmarks, frame_to_crop, warp_crop
from core.heatmap import input_to_heatmap
from core.images import read_rgb
from core.landmarks import interocular, layout_for
from training.augment import AugmentConfig, degrade, flip_crop, jitter_crop, photometric
from training.corpus.manifest import read_manifest


@dataclass(frozen=True)
class FaceSample:
    image: Path
    points: np.ndarray          # (N, 2) frame pixels
    person: str = ""
    source: str = ""
    facts: dict = field(default_factory=dict, compare=False)   # the manifest's extra (yaw_mesh, grey, ...)

    @property
    def is_video_frame(self) -> bool:
        return "frames" in self.image.parts


def load_corpus(manifest: str | Path, split: str | None = None) -> list[FaceSample]:
    manifest = Path(manifest)
    root = manifest.parent
    return [FaceSample(root / r.image, r.points_array(), r.person, r.source, r.extra)
            for r in read_manifest(manifest) if split is None or r.split == split]


def read_pts(path: str | Path) -> np.ndarray:
    """Read an iBUG .pts file (version/n_points header, points between braces)."""
    lines = Path(path).read_text().splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "{") + 1
        end = next(i for i, ln in enumerate(lines) if ln.strip() == "}")
        pts = np.array([[float(v) for v in ln.split()] for ln in lines[start:end]], dtype=np.float32)
    except (StopIteration, ValueError) as exc:
        raise ValueError(f"{path}: not a valid .pts file") from exc
    # .pts coordinates are 1-based (Matlab convention).
    return pts - 1.0


def load_300w(root: str | Path) -> list[FaceSample]:
    """Every image under `root` with a .pts file of the same stem beside it."""
    samples = []
    for pts_path in sorted(Path(root).rglob("*.pts")):
        image = next((pts_path.with_suffix(ext) for ext in (".jpg", ".png", ".jpeg")
                      if pts_path.with_suffix(ext).exists()), None)
        if image is None:
            continue
        pts = read_pts(pts_path)
        if pts.shape != (68, 2):
            raise ValueError(f"{pts_path}: expected 68 points, found {len(pts)}")
        samples.append(FaceSample(image, pts, person=pts_path.stem, source="300W"))
    return samples


def load_wflw(annotation: str | Path, images_root: str | Path) -> list[FaceSample]:
    """WFLW annotation lines: 196 coordinates, 4 box values, 6 attributes, image name."""
    samples = []
    for lineno, line in enumerate(Path(annotation).read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 196 + 4 + 6 + 1:
            raise ValueError(f"{annotation}:{lineno}: expected 207 fields, found {len(parts)}")
        pts = np.array(parts[:196], dtype=np.float32).reshape(98, 2)
        samples.append(FaceSample(Path(images_root) / parts[-1], pts, person=parts[-1], source="WFLW"))
    return samples


def load_samples(spec: str, split: str | None = None) -> list[FaceSample]:
    """Samples named by a data spec:
    - `PATH.jsonl`: a corpus manifest (training.corpus), optionally one split of it;
    - `300w:DIR`: every image with a .pts file under DIR (all of it: `split` is ignored);
    - `wflw:ANNOTATION.txt:IMAGES_DIR`: a WFLW annotation list.
    """
    kind, _, rest = spec.partition(":")
    if kind.lower() == "300w" and rest:
        return load_300w(rest)
    if kind.lower() == "wflw" and rest:
        annotation, _, images = rest.partition(":")
        if not images:
            raise ValueError(f"wflw data spec needs ANNOTATION:IMAGES, got {spec!r}")
        return load_wflw(annotation, images)
    return load_corpus(spec, split)


@lru_cache(maxsize=4096)   # a packed corpus (training.corpus.pack) fits whole
def read_rgb_cached(path: str) -> np.ndarray:
    return read_rgb(path)


class FaceCrops:
    """Training crops of samples: (image 3xSxS uint8, points Nx2 in heatmap pixels).

    Crops are framed as the model's config says (`landmark_scale`), the
    framing its checkpoint records. Heatmap targets are rendered from the
    points by the trainer, on its device: a uint8 image and 2 floats per
    point are all that crosses from the loader's workers.
    """

    def __init__(self, samples: list[FaceSample], model: ModelConfig, augment: AugmentConfig | None = None,
                 seed: int = 0) -> None:
        self.samples = samples
        self.model = model
        self.augment = augment
        self.layout = layout_for(model.num_points)
        self.seed = seed

    def __len__(self) -> int:
        return len(self.samples)

    def draw(self, index: int, key: tuple[int, ...]):
        """Sample `index`, augmented with the randomness named by `key`."""
        sample = self.samples[index]
        image = read_rgb_cached(str(sample.image))
        size = self.model.input_size
        crop = crop_from_landmarks(sample.points, self.layout, self.model.landmark_scale)
        rng = np.random.default_rng((self.seed, *key))
        if self.augment is not None:
            crop = jitter_crop(crop, rng, self.augment)
        patch = warp_crop(image, crop, size)
        pts = frame_to_crop(crop, sample.points, size).astype(np.float32)
        if self.augment is not None:
            if rng.random() < self.augment.flip_prob:
                patch, pts = flip_crop(patch, pts, self.layout)
            patch = photometric(patch, rng, self.augment)
            patch = degrade(patch, rng, self.augment, interocular(pts, self.layout))
        hm_pts = input_to_heatmap(pts, size, self.model.heatmap_size).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1))), torch.from_numpy(hm_pts)


class EpochDraws(Dataset):
    """One epoch's draws (sample indices, with repeats) as a dataset.

    Each draw is augmented by (epoch, position in the epoch), not by sample
    index: an epoch draws a small corpus's faces ~30 times each, and keyed by
    index those 30 would be the same crop, shrinking the augmented set to one
    crop per face per epoch (the network memorised it within the epoch).
    Positions are absolute, so a run resumed mid-epoch replays the same crops.
    """

    def __init__(self, crops: FaceCrops, indices: np.ndarray, epoch: int, start: int = 0) -> None:
        self.crops, self.indices, self.epoch, self.start = crops, indices, epoch, start

    def __len__(self) -> int:
        return len(self.indices) - self.start

    def __getitem__(self, i: int):
        position = self.start + i
        # The 1_000_000 offset is kept so that the shipped weights' training draws replay exactly.
        return self.crops.draw(int(self.indices[position]), (self.epoch, 1_000_000 + position))
