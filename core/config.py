"""Run-time configuration as plain dataclasses.

`ModelConfig` travels inside every checkpoint, so a weights file describes
the network *and* how its training framed a face (`landmark_scale`) and drew
its heatmaps (`heatmap_sigma`): nothing that must match training is rebuilt
from a default at a call site. `PipelineConfig` is what the app, the
headless runner and the benchmarks tune.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from core.threads import default_model_threads

REPO_ROOT = Path(__file__).resolve().parent.parent
WEIGHTS_DIR = REPO_ROOT / "weights"
CHECKPOINT_FORMAT_VERSION = 1

# Crop framing used to train every shipped model: a square of 1.35 x the
# landmarks' extent in the face's upright axes (core/geometry.py).
DEFAULT_LANDMARK_SCALE = 1.35


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one MobileFAN network (student or teacher), and the
    crop framing and heatmap sigma it was trained with."""

    num_points: int = 68
    input_size: int = 128          # 128 (default) or 256; heatmaps are input_size / 4
    # "mobilenetv2" (MobileFAN's own encoder), or "face_mesh": the trunk of MediaPipe's face-landmark
    # network (core/face_mesh_net.py; 192 px, trained by its authors on far more faces than ours)
    encoder: str = "mobilenetv2"
    width: float = 1.0             # MobileNetV2 width multiplier (mobilenetv2 only)
    deconv_channels: int = 128     # channels of each of the three stride-2 deconvolutions
    # The face-mesh trunk's activation: "prelu" as MediaPipe trained it, or "relu", which ONNX Runtime
    # fuses into the convolutions (core/face_mesh_net.FadingPReLU says how a PReLU trunk becomes one).
    trunk_activation: str = "prelu"
    heatmap_sigma: float = 1.5     # Gaussian sigma in heatmap pixels used for training targets
    landmark_scale: float = DEFAULT_LANDMARK_SCALE   # crop side / landmark extent

    @property
    def heatmap_size(self) -> int:
        return self.input_size // 4

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        """Fields a checkpoint lacks take their defaults: checkpoints written
        before `landmark_scale` was recorded were all trained at 1.35."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class SmoothingConfig:
    """One Euro filter; `min_cutoff` and `d_cutoff` in Hz, `beta` per face size per second.

    Defaults chosen with `python -m bench.smoothing` on five held-out face
    videos: jitter at most 0.30 x dlib's while agreement with dlib loses at
    most 10% against the unsmoothed points (README, "Steadier without lag").
    """

    enabled: bool = True
    min_cutoff: float = 0.5
    beta: float = 8.0
    d_cutoff: float = 2.0
    shared_speed: bool = True      # one speed for the whole face (core/smoothing.py)


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole camera in pixels, for head pose (no lens distortion)."""

    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_frame(cls, width: int, height: int) -> "CameraIntrinsics":
        """OpenFace's default for an unknown camera: fx = fy = 500 (W/640 + H/480) / 2, centred."""
        f = 500.0 * (width / 640.0 + height / 480.0) / 2.0
        return cls(f, f, width / 2.0, height / 2.0)

    def matrix(self) -> list[list[float]]:
        """The 3x3 camera matrix K (a plain list: OpenCV takes it as an array)."""
        return [[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]]


@dataclass(frozen=True)
class CameraOverrides:
    """What the user gave of the intrinsics (`--fx --fy --cx --cy`); the rest comes from the frame size."""

    fx: float | None = None
    fy: float | None = None
    cx: float | None = None
    cy: float | None = None

    def for_frame(self, width: int, height: int) -> CameraIntrinsics:
        base = CameraIntrinsics.from_frame(width, height)
        fx = self.fx if self.fx is not None else (self.fy if self.fy is not None else base.fx)
        fy = self.fy if self.fy is not None else fx
        return CameraIntrinsics(fx, fy, base.cx if self.cx is None else self.cx, base.cy if self.cy is None else self.cy)


@dataclass(frozen=True)
class BlinkConfig:
    """Blink detection on the eye aspect ratio (core/face_measures.py)."""

    close_ratio: float = 0.70        # closed below this x the person's open-eye EAR
    open_ratio: float = 0.80         # open again above this x it
    min_closed_frames: int = 2       # a one-frame dip is noise
    max_duration_s: float = 1.0      # longer closures are eyes closed, not a blink
    baseline_s: float = 5.0          # how far back the open-eye EAR is measured
    baseline_percentile: float = 80.0
    min_samples: int = 5             # frames before anything is flagged


@dataclass(frozen=True)
class ClockConfig:
    """When a frame's timestamp breaks the flow of time (core/clock.py): then the tracks,
    their smoothing and blink baselines start afresh, as after a cut."""

    max_gap_frames: float = 5.0      # a jump forward longer than this many typical frame gaps...
    min_gap_s: float = 0.5           # ...and than this many seconds is a break (a seek, a stall)
    history: int = 15                # gaps the typical one is the median of


DETECTOR_RANGES = ("auto", "short", "full")
# Inference back-ends (core/runtimes.py); named here so that choosing one needs no torch.
# "auto": the export the model ships: int8 if one ships (none does since round 16), else fp32.
RUNTIMES = ("auto", "torch", "torchscript", "onnxruntime", "onnxruntime-int8", "opencv")
# Shipped model sizes: "default" (MediaPipe's face-mesh trunk, 128 px, 32-channel decoder), "small"
# (the same at 96 px: faster per face, less accurate) and "accurate" (the face-mesh trunk, 192 px,
# 128 channels, the distillation teacher; weights/MODEL_CARD.md).
MODEL_SIZES = ("default", "small", "accurate")
MIRRORED_MODELS = ("accurate",)        # run with test-time mirroring on every frame unless told otherwise
# How often each model's faces are read by the face mesh on video (core/mesh_blend.py), unless told
# otherwise: the accurate model on every frame; the default on every 5th frame of a face, small on
# every 30th, the correction carried between (weights/MODEL_CARD.md, rounds 28 and 29: the default
# keeps most of the every-frame gain for a fifth of its cost; small, the speed model, reads it once a
# second at 30 fps, as often as its speed target allows: 69% of the gain on a steady clip, 15% on a
# moving one).
# Every model reads it on still photos, where the mesh's ~2-3 ms a face (and a mirrored second
# network run) are nothing beside the photo's face search and take a seventh off the default's and
# small's error (round 27).
MESH_EVERY_ON_VIDEO = {"default": 5, "small": 30, "accurate": 1}
ENCODERS = ("mobilenetv2", "face_mesh")
TRUNK_ACTIVATIONS = ("prelu", "relu")


@dataclass(frozen=True)
class PipelineConfig:
    """What the app, the headless runner and the benchmarks tune. Frozen: a change is a new
    config (`dataclasses.replace`), handed to whoever must apply it."""

    points: int = 68
    model: str = "default"                 # "default", "small" or "accurate" (MODEL_SIZES)
    weights: Path | None = None            # None: the shipped weights for `points` and `model`
    # "short" (webcam, < 2 m), "full" (photos, groups, far faces), or "auto":
    # chosen per source when it is opened (short for cameras, full for files).
    detector_range: str = "auto"
    detector_confidence: float = 0.5
    max_faces: int = 16                    # faces tracked per frame; more found is reported
    # Frames between detector runs while tracking: they only look for new faces (a tracked face
    # keeps its crop from its own landmarks), so a new face is found within a second at 30 fps;
    # each run costs ~6 ms (bench/pipeline_stages.py), so 15 frames spent ~0.4 ms a frame on it.
    redetect_every: int = 30
    # That search runs in a thread of its own, started this many frames before the frame its new faces
    # join the tracks on (core/face_search.py): the tracked frames meanwhile do not wait for it. 0: inline.
    search_lag: int = 3
    min_track_score: float = 0.25          # below this the track is dropped and re-detected
    crop_follow: float = 0.5               # how far a track's crop moves to the new answer each frame (0..1)
    # Predict twice for a face the detector just framed (photos, new tracks), the second time from a
    # crop framed by the first answer; measured by bench/second_pass.py (README, Weights).
    second_pass: bool = True
    # A second look at each eye (core/eyelids.py): the lids from a small network on the eye's own
    # crop, for eye openness and blinks that follow the lids (bench/blinks.py; README, Blinks).
    eyelids: bool = True
    eyelid_weights: Path | None = None      # None: the shipped weights/eyelids.onnx
    # Test-time mirroring (core/mirror_test.py): each face also run mirrored and the heatmaps
    # averaged, twice the network per face for ~5% less error (README, Weights). None: the
    # model's own choice: MIRRORED_MODELS on every frame (where accuracy was asked for over speed),
    # any model on still photos (`mirrors`). True / False: every frame / none.
    mirror: bool | None = None
    # A second opinion (core/mesh_blend.py): MediaPipe's face mesh on the same crop, read as the 68
    # or 98 points through a fitted map, averaged with the network's answer: ~6% less error for the
    # accurate model, ~10% for the others (weights/MODEL_CARD.md, rounds 22 and 27), ~2-3 ms a face.
    # None: the model's own choice: on video every MESH_EVERY_ON_VIDEO[model] frames of a tracked
    # face, every still photo (`mesh_interval`). True / False: every frame / none.
    mesh_blend: bool | None = None
    # A tracked face's correction by the mesh (where its points move to, in its own crop) changes
    # slowly from frame to frame: read every Nth frame and carried between, it keeps most of the
    # blend's gain for a fraction of its cost (python -m bench.video_nme; weights/MODEL_CARD.md,
    # rounds 28 and 29). None: the model's own N (MESH_EVERY_ON_VIDEO); 1: every frame.
    mesh_every: int | None = None
    # Model threads (torch / ONNX Runtime / OpenCV): 2, or 1 on a 2-core machine (core/threads.py).
    num_threads: int = field(default_factory=default_model_threads)
    # ONNX Runtime's idle model threads busy-wait for the next call (core/runtimes.py). Fastest for
    # the network alone (bench/ort_settings.py), but between calls they take the cores that video
    # decoding (read ahead in a thread) and the Python around the network need: off measured faster
    # end to end, most for the small model (python -m bench.read_ahead; README, Performance).
    ort_spinning: bool = False
    # Headless, a video file: this frame's eyelids, smoothing and measures are done in a worker thread
    # while the next frame's face network runs (core/frame_overlap.py; the same answers).
    overlap_frames: bool = True
    # ONNX Runtime decodes the heatmaps inside the network's graph (core/heatmap_graph.py): the same
    # points, one call, no heatmaps copied out (`python -m bench.decode_in_graph`). Not with test-time
    # mirroring, which averages the heatmaps themselves; other back-ends decode in numpy either way.
    decode_in_graph: bool = True
    # Inference back-end (core/runtimes.py). "auto": the export shipped beside the weights decides:
    # fp32 ONNX Runtime for every shipped model (int8 gained nothing on the face-mesh trunk they all
    # share since round 16; weights/MODEL_CARD.md, Rounds 13 and 16); int8 where a .int8.onnx ships.
    runtime: str = "auto"
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    camera: CameraOverrides = field(default_factory=CameraOverrides)
    blink: BlinkConfig = field(default_factory=BlinkConfig)
    clock: ClockConfig = field(default_factory=ClockConfig)

    def __post_init__(self) -> None:
        if self.detector_range not in DETECTOR_RANGES:
            raise ValueError(f"detector range must be one of {', '.join(DETECTOR_RANGES)}, "
                             f"got {self.detector_range!r}")
        if self.search_lag < 0:
            raise ValueError(f"search_lag must be 0 or more frames, got {self.search_lag}")
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")
        if self.mesh_every is not None and self.mesh_every < 1:
            raise ValueError(f"mesh_every must be at least 1 frame, got {self.mesh_every}")
        if self.model not in MODEL_SIZES:
            raise ValueError(f"model must be one of {', '.join(MODEL_SIZES)}, got {self.model!r}")

    def mirrors(self, still: bool = False) -> bool:
        """Whether a frame's faces are also run mirrored; `still`: the frame is a photo."""
        if self.mirror is not None:
            return self.mirror
        return still or self.model in MIRRORED_MODELS

    def mesh_interval(self, still: bool = False) -> int:
        """How often a face is read by the face mesh: 1 on every frame, N on every Nth frame of a
        tracked face (the correction carried between), 0 never; `still`: the frame is a photo."""
        if self.mesh_blend is not None:
            return 1 if self.mesh_blend else 0
        if still:
            return 1
        return self.mesh_every if self.mesh_every is not None else MESH_EVERY_ON_VIDEO.get(self.model, 0)

    def blends_mesh(self, still: bool = False) -> bool:
        """Whether a frame's faces are blended with the mesh's reading; `still`: the frame is a photo."""
        return self.mesh_interval(still) > 0

    def decodes_in_graph(self) -> bool:
        return self.decode_in_graph and not self.mirrors()

    def weights_path(self) -> Path:
        return Path(self.weights) if self.weights else default_weights_path(self.points, self.model)


def default_weights_path(points: int, model: str = "default") -> Path:
    """weights/mobilefan_68.pt, weights/mobilefan_68_small.pt, ..."""
    return WEIGHTS_DIR / (f"mobilefan_{points}.pt" if model == "default" else f"mobilefan_{points}_{model}.pt")


def shipped_layouts(model: str = "default") -> list[int]:
    """The landmark layouts a shipped model size comes in (those whose weights are in weights/):
    `small` has no 98-point form, so `--model small --points 98` is a choice to refuse by name,
    not a missing file to report."""
    return [points for points in (68, 98) if default_weights_path(points, model).exists()]
