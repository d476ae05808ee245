"""MediaPipe's refined 478-point face mesh on a face, in frame coordinates, with depth.

The mesh is the project's only offline source of 3D face shape and of a
98-point (WFLW) teacher. It runs on an upright crop 1.7 x the face's
landmark extent (room for the mesh's own margin) and is mapped back to the
frame: x, y in frame pixels, z (MediaPipe's relative depth, larger = farther
from the camera, on the same scale as x) in frame pixels too.
"""
from __future__ import annotations

import numpy as np

from core.geometry import Crop, crop_from_landmarks, crop_to_frame, warp_crop
from core.landmarks import layout_for

MESH_CROP = 256


class FaceMesh3D:
    def __init__(self, min_confidence: float = 0.3) -> None:
        from mediapipe.python.solutions import face_mesh
        self._mesh = face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1,
                                        min_detection_confidence=min_confidence)

    def mesh(self, rgb: np.ndarray, points: np.ndarray) -> np.ndarray | None:
        """(478, 3) mesh of the face whose 68/98 landmarks are `points`, or None if the mesh finds none."""
        return self.mesh_in_crop(rgb, crop_from_landmarks(points, layout_for(len(points)), 1.7))

    def mesh_in_crop(self, rgb: np.ndarray, crop: Crop) -> np.ndarray | None:
        """(478, 3) mesh of the face in `crop` (frame coordinates), or None."""
        patch = warp_crop(rgb, crop, MESH_CROP)
        result = self._mesh.process(patch)
        if not result.multi_face_landmarks:
            return None
        m = np.array([[p.x, p.y, p.z] for p in result.multi_face_landmarks[0].landmark], np.float64) * MESH_CROP
        xy = crop_to_frame(crop, m[:, :2], MESH_CROP)
        z = m[:, 2] * crop.side / MESH_CROP        # the crop's pixel scale, like x and y
        return np.column_stack([xy, z])

    def close(self) -> None:
        self._mesh.close()
