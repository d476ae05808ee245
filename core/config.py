"""All run-time configuration in one place.

`ModelConfig` travels inside every checkpoint so a weights file describes
itself; `PipelineConfig` is what the app, the headless runner and the
benchmarks tune.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WEIGHTS_DIR = REPO_ROOT / "weights"
CHECKPOINT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one MobileFAN network (student or teacher)."""

    num_points: int = 68
    input_size: int = 128          # 128 (default) or 256; heatmaps are input_size / 4
    width: float = 1.0             # MobileNetV2 width multiplier
    deconv_channels: int = 128     # channels of each of the three stride-2 deconvolutions
    heatmap_sigma: float = 1.5     # Gaussian sigma in heatmap pixels used for training targets

    @property
    def heatmap_size(self) -> int:
        return self.input_size // 4

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class CropConfig:
    """How a face crop is framed.

    The crop is a square of side `scale` x the landmarks' bounding-box size.
    A detector box is converted to the same framing with a measured offset
    and ratio (see core/geometry.py), so the model always sees faces framed
    the way it was trained.
    """

    landmark_scale: float = 1.35
    # Measured on 1265 corpus faces with both a BlazeFace box and teacher landmarks
    # (median; interquartile range of the ratio 1.18-1.25).
    detector_scale: float = 1.21      # crop side / BlazeFace box side
    detector_shift_y: float = 0.08    # crop centre shift, in BlazeFace box heights (down the face)


@dataclass
class SmoothingConfig:
    """One Euro filter; `min_cutoff` in Hz, `beta` relative to face size per second."""

    enabled: bool = True
    min_cutoff: float = 1.0
    beta: float = 4.0
    d_cutoff: float = 1.0


@dataclass
class PipelineConfig:
    points: int = 68
    weights: Path | None = None            # None: weights/mobilefan_{points}.pt
    detector_range: str = "short"          # "short" (webcam, < 2 m) or "full" (photos, groups)
    detector_confidence: float = 0.5
    max_faces: int = 8
    redetect_every: int = 15               # frames between detector runs while tracking
    min_track_score: float = 0.25          # below this the track is dropped and re-detected
    num_threads: int = 2                   # model threads (torch / ONNX Runtime / OpenCV), set explicitly
    # Inference back-end (core/runtimes.py). int8 ONNX Runtime: the fastest measured that keeps
    # validation NME within 1% of fp32 (+0.6% for 68 points, +0.3% for 98; README, Performance).
    runtime: str = "onnxruntime-int8"
    crop: CropConfig = field(default_factory=CropConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)

    def weights_path(self) -> Path:
        return Path(self.weights) if self.weights else default_weights_path(self.points)


def default_weights_path(points: int) -> Path:
    return WEIGHTS_DIR / f"mobilefan_{points}.pt"
