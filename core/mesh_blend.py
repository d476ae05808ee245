"""A second opinion: MediaPipe's face mesh, read as our 68 or 98 points.

MediaPipe's face-landmark network (the mediapipe wheel's face_landmark.tflite,
Apache-2.0, Google) was trained on far more people than our corpus holds. Its
468-vertex mesh is read as the layout's points through a linear map fitted on
our training faces (training/mesh_map.py): each point from the mesh vertices
nearest it, by ridge regression. Its errors and the face network's are
partly independent, so the average of the two is more accurate than either
(weights/MODEL_CARD.md, rounds 22 and 27), for about a fifth of the accurate
network's time again. For the default and small models a reading costs more
than their own network, so on video they read it only every 5th / 30th frame
of a face and carry its correction between (`corrections`, `apply`; rounds 28
and 29); the accurate model reads it on every frame, and every model on
photos, where speed is not at stake (PipelineConfig.mesh_interval).

The mesh runs on the face network's own crop (the same centre and angle,
widened to the scale the map was fitted on), so both networks are framed
alike; where the face network runs mirrored too (test-time mirroring, the
accurate model), so does the mesh. The map was fitted on jittered crops as
well as exact ones, so a crop framed by the last frame's points (tracking)
costs it little.

`weights/mesh68.onnx` and `weights/mesh98.onnx` hold the mesh network with
a layout's map appended (crop pixels in, 0-255 RGB; the points in crop pixels
out) and their framing in their metadata, so they run without torch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.config import WEIGHTS_DIR
from core.geometry import Crop, crop_to_frame, frame_to_crop, warp_crop
from core.landmarks import flip_points, layout_for
from core.weights import WeightsError

CONFIG_KEY = "mobilefan_mesh_blend_config"


def mesh_blend_model(points: int = 68) -> Path:
    """weights/mesh68.onnx or weights/mesh98.onnx."""
    return WEIGHTS_DIR / f"mesh{points}.onnx"


# Points the plain mesh has nothing of: WFLW's pupils are the refined mesh's iris centres, which the
# wheel's face_landmark network does not give, so its reading of them is a guess from the eyelids
# (the 98-point accurate model's pupils 7% worse blended; weights/MODEL_CARD.md, round 27). They keep
# the network's answer.
UNBLENDED_POINTS = {98: (96, 97)}


@dataclass(frozen=True)
class MeshBlendConfig:
    """How the mesh is framed and how much of the answer is its."""
    size: int = 192               # the mesh network's input side
    scale: float = 1.7            # crop side / the face's points' extent (chosen by cross-validation over people)
    weight: float = 0.5           # the mesh's share of the blended points
    points: int = 68              # the layout it reads the mesh as (mesh68.onnx predates the field)

    def to_dict(self) -> dict:
        return asdict(self)


class MeshBlend:
    """Faces' points in, the same blended with the mesh's reading of them."""

    def __init__(self, path: Path | None = None, points: int = 68) -> None:
        """The mesh's reading as `points` points, from `path` (default: the shipped one for them)."""
        from core.runtimes import open_side_network
        path = mesh_blend_model(points) if path is None else path
        self.runner, config = open_side_network(path, CONFIG_KEY, "a mesh-blend model")
        self.config = MeshBlendConfig(**config)
        if self.config.points != points:
            raise WeightsError(f"{path} reads the mesh as {self.config.points} points, not {points}")
        self.layout = layout_for(points)
        self.weights = np.full((points, 1), self.config.weight, np.float32)   # the mesh's share, per point
        self.weights[list(UNBLENDED_POINTS.get(points, ())), 0] = 0.0

    def mesh_crop(self, crop: Crop, crop_scale: float) -> Crop:
        """The mesh's crop of a face the face network framed by `crop`, whose side is `crop_scale` x
        the face's extent (the model's `landmark_scale`)."""
        return Crop(crop.cx, crop.cy, crop.side * self.config.scale / crop_scale, crop.angle)

    def read(self, rgb: np.ndarray, crops: list[Crop], crop_scale: float, mirror: bool = False
             ) -> list[np.ndarray]:
        """The mesh's points (frame pixels) of the faces the face network framed by `crops`;
        `mirror`: each face also read mirrored (flipped back, renumbered) and the two averaged."""
        if not crops:
            return []
        cfg = self.config
        crops = [self.mesh_crop(c, crop_scale) for c in crops]
        patches = np.stack([warp_crop(rgb, crop, cfg.size) for crop in crops])
        if mirror:
            patches = np.concatenate([patches, patches[:, :, ::-1]])
        batch = np.ascontiguousarray(patches.transpose(0, 3, 1, 2), dtype=np.float32)
        points = self.runner(batch).reshape(len(batch), cfg.points, 2)
        n = len(crops)
        if mirror:         # the mirrored readings flipped back, points renumbered, then averaged
            back = np.stack([flip_points(p, cfg.size, self.layout) for p in points[n:]])
            points = (points[:n] + back) / 2
        return [crop_to_frame(crop, p, cfg.size).astype(np.float32) for crop, p in zip(crops, points)]

    def corrections(self, rgb: np.ndarray, faces: list[np.ndarray], crops: list[Crop], crop_scale: float,
                    mirror: bool = False) -> list[np.ndarray]:
        """How far each face's points move to the blend: `weight` of the way to the mesh's reading of
        the face in the same crop (`read`; UNBLENDED_POINTS not at all), in units of the crop's side
        along its own axes, so that a tracked face's correction applies to its next frames' crops too."""
        return [self.weights * (frame_to_crop(c, m, 1) - frame_to_crop(c, np.asarray(p, np.float64), 1))
                for p, m, c in zip(faces, self.read(rgb, crops, crop_scale, mirror), crops)]

    @staticmethod
    def apply(points: np.ndarray, crop: Crop, correction: np.ndarray) -> np.ndarray:
        """`points` (frame pixels) moved by a `correction` in `crop`'s units."""
        return crop_to_frame(crop, frame_to_crop(crop, np.asarray(points, np.float64), 1) + correction, 1
                             ).astype(np.float32)

    def blend(self, rgb: np.ndarray, faces: list[np.ndarray], crops: list[Crop], crop_scale: float,
              mirror: bool = False) -> list[np.ndarray]:
        """Each face's points moved `weight` of the way to the mesh's reading of the face in the
        same crop (`read`); UNBLENDED_POINTS stay the network's."""
        return [self.apply(p, c, d) for p, c, d in zip(faces, crops, self.corrections(rgb, faces, crops, crop_scale,
                                                                                         mirror))]
