"""Head pose from 2D landmarks: a 3D mean face, OpenCV's PnP, OpenFace 2.0's conventions.

Camera frame as in OpenFace: x right, y down, z forward (away from the
camera), millimetres. `pose_T` is the position of the mean face's origin
(the midpoint of the outer eye corners) in that frame; `pose_R` is
(Rx, Ry, Rz) in radians with R = Rx * Ry * Rz: Rx is pitch (positive: head
tilted down), Ry yaw (positive: face turned towards the image's left, the
subject's right), Rz roll (positive: clockwise on screen); a face looking
straight into the camera has R = identity.

Intrinsics default to OpenFace's guess from the frame size
(fx = fy = 500 * (W/640 + H/480) / 2, principal point at the centre): a
laptop webcam's field of view is close to it, and a wrong focal length
mostly scales pose_Tz, not the angles.

PnP uses the rigid points of the face only (nose, eye corners and the
upper jaw line), not the brows, lids, lips and chin, which move with
expression and would tilt the head with every smile.
"""
from __future__ import annotations

import cv2
import numpy as np

from core.config import CameraIntrinsics
from core.landmarks import as_68
from core.mean_face import MEAN_FACE_68
from core.results import HeadPose
from core.rotations import euler_xyz

# Nose bridge and tip (27-35), eye corners (36, 39, 42, 45), upper jaw near the ears (0, 1, 15, 16).
POSE_POINTS: tuple[int, ...] = (0, 1, 15, 16, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45)
OUTER_EYE_CORNER_MM = float(np.linalg.norm(MEAN_FACE_68[36] - MEAN_FACE_68[45]))


class HeadPoseEstimator:
    """PnP of the mean face's rigid points on a face's 68 (or 98) landmarks."""

    def __init__(self, model: np.ndarray = MEAN_FACE_68, points: tuple[int, ...] = POSE_POINTS) -> None:
        self.points = list(points)
        self.model = np.ascontiguousarray(model[self.points], dtype=np.float64)

    def _frontal_guess(self, image_points: np.ndarray, camera: CameraIntrinsics,
                       landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Facing the camera at the distance its eye-corner span implies."""
        iod_px = max(float(np.linalg.norm(landmarks[36] - landmarks[45])), 1e-3)
        tz = camera.fx * OUTER_EYE_CORNER_MM / iod_px
        centre = (landmarks[36] + landmarks[45]) / 2
        tvec = np.array([(centre[0] - camera.cx) * tz / camera.fx, (centre[1] - camera.cy) * tz / camera.fy, tz])
        return np.zeros(3), tvec

    def estimate(self, landmarks: np.ndarray, camera: CameraIntrinsics, previous: HeadPose | None = None) -> HeadPose:
        """Pose of a face from its landmarks (frame pixels); `previous` (the same track's last
        pose) starts the solver near the answer, which keeps it steady from frame to frame."""
        pts68 = as_68(np.asarray(landmarks, np.float64))
        image_points = np.ascontiguousarray(pts68[self.points])
        if previous is not None and previous.is_finite():
            rvec, _ = cv2.Rodrigues(previous.rotation)
            rvec, tvec = rvec.ravel(), previous.translation.astype(np.float64)
        else:
            rvec, tvec = self._frontal_guess(image_points, camera, pts68)
        ok, rvec, tvec = cv2.solvePnP(self.model, image_points, np.array(camera.matrix()), None,
                                      rvec.reshape(3, 1).copy(), tvec.reshape(3, 1).copy(),
                                      useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok or not np.all(np.isfinite(tvec)) or tvec[2, 0] <= 0:
            rvec, tvec = self._frontal_guess(image_points, camera, pts68)      # a face is in front of the camera
            rvec, tvec = rvec.reshape(3, 1), tvec.reshape(3, 1)
        rotation, _ = cv2.Rodrigues(rvec)
        rx, ry, rz = euler_xyz(rotation)
        t = tvec.ravel()
        return HeadPose(float(t[0]), float(t[1]), float(t[2]), rx, ry, rz)


def project(pose: HeadPose, camera: CameraIntrinsics, points3d: np.ndarray) -> np.ndarray:
    """Model-frame points (mm) -> frame pixels under `pose` (pinhole, no distortion)."""
    cam = np.asarray(points3d, np.float64) @ pose.rotation.T + pose.translation
    z = np.maximum(cam[:, 2], 1e-6)
    return np.stack([camera.fx * cam[:, 0] / z + camera.cx, camera.fy * cam[:, 1] / z + camera.cy], axis=1)
