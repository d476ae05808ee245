"""A second opinion for the accurate model: MediaPipe's face mesh, read as dlib's 68 points.

MediaPipe's face-landmark network (the mediapipe wheel's face_landmark.tflite,
Apache-2.0, Google) was trained on far more people than our corpus holds. Its
468-vertex mesh is read as the 68 points through a linear map fitted on our
training faces (training/mesh_map.py): each point from the mesh vertices
nearest it, by ridge regression. Its errors and the accurate network's are
partly independent, so the average of the two is more accurate than either
(weights/MODEL_CARD.md, round 22), for about a fifth of the accurate network's
time again. It would help the default and small models more, but there it
costs more than their own network and holds each frame back, so it is on for
the accurate model only (PipelineConfig.mesh_blend).

The mesh runs on the face network's own crop (the same centre and angle,
widened to the scale the map was fitted on), so both networks are framed
alike; where the face network runs mirrored too (test-time mirroring, the
accurate model), so does the mesh. The map was fitted on jittered crops as
well as exact ones, so a crop framed by the last frame's points (tracking)
costs it little.

`weights/mesh68.onnx` holds the mesh network with the map appended (crop
pixels in, 0-255 RGB; the 68 points in crop pixels out) and its framing in
its metadata, so it runs without torch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.config import WEIGHTS_DIR
from core.geometry import Crop, crop_to_frame, warp_crop
from core.landmarks import LAYOUT_68, flip_points

MESH_BLEND_MODEL = WEIGHTS_DIR / "mesh68.onnx"
CONFIG_KEY = "mobilefan_mesh_blend_config"


@dataclass(frozen=True)
class MeshBlendConfig:
    """How the mesh is framed and how much of the answer is its."""
    size: int = 192               # the mesh network's input side
    scale: float = 1.7            # crop side / the face's points' extent (chosen by cross-validation over people)
    weight: float = 0.5           # the mesh's share of the blended points

    def to_dict(self) -> dict:
        return asdict(self)


class MeshBlend:
    """Faces' 68 points in, the same blended with the mesh's reading of them."""

    def __init__(self, path: Path = MESH_BLEND_MODEL) -> None:
        from core.runtimes import open_side_network
        self.runner, config = open_side_network(path, CONFIG_KEY, "a mesh-blend model")
        self.config = MeshBlendConfig(**config)

    def mesh_crop(self, crop: Crop, crop_scale: float) -> Crop:
        """The mesh's crop of a face the face network framed by `crop`, whose side is `crop_scale` x
        the face's extent (the model's `landmark_scale`)."""
        return Crop(crop.cx, crop.cy, crop.side * self.config.scale / crop_scale, crop.angle)

    def read(self, rgb: np.ndarray, crops: list[Crop], crop_scale: float, mirror: bool = False
             ) -> list[np.ndarray]:
        """The mesh's 68 points (frame pixels) of the faces the face network framed by `crops`;
        `mirror`: each face also read mirrored (flipped back, renumbered) and the two averaged."""
        if not crops:
            return []
        cfg = self.config
        crops = [self.mesh_crop(c, crop_scale) for c in crops]
        patches = np.stack([warp_crop(rgb, crop, cfg.size) for crop in crops])
        if mirror:
            patches = np.concatenate([patches, patches[:, :, ::-1]])
        batch = np.ascontiguousarray(patches.transpose(0, 3, 1, 2), dtype=np.float32)
        points = self.runner(batch).reshape(len(batch), 68, 2)
        n = len(crops)
        if mirror:         # the mirrored readings flipped back, points renumbered, then averaged
            back = np.stack([flip_points(p, cfg.size, LAYOUT_68) for p in points[n:]])
            points = (points[:n] + back) / 2
        return [crop_to_frame(crop, p, cfg.size).astype(np.float32) for crop, p in zip(crops, points)]

    def blend(self, rgb: np.ndarray, faces: list[np.ndarray], crops: list[Crop], crop_scale: float,
              mirror: bool = False) -> list[np.ndarray]:
        """Each face's 68 points moved `weight` of the way to the mesh's reading of the face in the
        same crop (`read`)."""
        w = self.config.weight
        return [((1 - w) * np.asarray(p, np.float32) + w * m).astype(np.float32)
                for p, m in zip(faces, self.read(rgb, crops, crop_scale, mirror))]
