"""Face detection with MediaPipe BlazeFace, fully offline.

`mediapipe==0.10.21` ships both BlazeFace models inside its wheel
(mediapipe/modules/face_detection/*.tflite), so nothing is downloaded at run
time. The short-range model suits a webcam (faces within ~2 m); the
full-range model finds the small faces of group photos.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import MobileFANError
from core.geometry import Crop, box_intersection, box_iou, crop_from_box
from core.mediapipe_import import import_mediapipe_solution
from core.native_logs import native_stderr_silenced


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]            # x0, y0, x1, y1 in frame pixels
    score: float
    eyes: tuple[tuple[float, float], tuple[float, float]]  # image-left eye, image-right eye


def non_max_suppression(detections: list[Detection], limit: int | None = None,
                        threshold: float = 0.3) -> list[Detection]:
    """Keep the best-scoring box of each overlapping group; a box mostly inside
    a kept one (a face cut by a tile edge) counts as overlapping too."""
    kept: list[Detection] = []
    for d in sorted(detections, key=lambda d: d.score, reverse=True):
        area = max((d.box[2] - d.box[0]) * (d.box[3] - d.box[1]), 1e-6)
        if all(box_iou(d.box, k.box) < threshold and box_intersection(d.box, k.box) / area < 0.6 for k in kept):
            kept.append(d)
        if limit is not None and len(kept) >= limit:
            break
    return kept


class DetectorError(MobileFANError):
    """The face detector's model cannot be found or loaded."""


@dataclass(frozen=True)
class BoxCalibration:
    """How this detector's boxes relate to the landmarks (see geometry.crop_from_box).

    Measured on 1265 corpus faces with both a BlazeFace box and teacher
    landmarks (medians): a 1.35 x landmark-extent crop is 1.21 x the box side
    (interquartile range 1.18-1.25), so the landmark extent is 1.21 / 1.35 of
    the box side, and the crop centre sits 0.08 box heights below the box's.
    """

    extent_per_box: float = 1.21 / 1.35
    shift_y: float = 0.08


class BlazeFaceDetector:
    """Not thread-safe: MediaPipe graphs expect calls from one thread at a time.

    Carries its own box calibration, so whoever turns its detections into
    crops frames them the way the landmark model was trained.
    """

    calibration = BoxCalibration()

    def __init__(self, model_range: str = "short", min_confidence: float = 0.5) -> None:
        if model_range not in ("short", "full"):
            raise ValueError(f"detector range must be 'short' or 'full', got {model_range!r}")
        try:
            face_detection = import_mediapipe_solution("face_detection")
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise DetectorError(
                "MediaPipe is not installed; run: pip install -r requirements.txt") from exc
        with native_stderr_silenced():
            self._graph = face_detection.FaceDetection(
                model_selection=0 if model_range == "short" else 1,
                min_detection_confidence=min_confidence)
            # Photos get both models: the full-range one misses faces that fill the frame.
            self._close_graph = face_detection.FaceDetection(
                model_selection=0, min_detection_confidence=min_confidence) if model_range == "full" else None
            # The first run starts TFLite, which prints its start-up notes to stderr.
            blank = np.zeros((64, 64, 3), np.uint8)
            for graph in (self._graph, self._close_graph):
                if graph is not None:
                    graph.process(blank)
        self.model_range = model_range

    def detect(self, rgb: np.ndarray, graph=None) -> list[Detection]:
        """Every face in an RGB uint8 frame, best first (the caller applies any limit)."""
        h, w = rgb.shape[:2]
        result = (graph or self._graph).process(np.ascontiguousarray(rgb))
        found: list[Detection] = []
        for det in result.detections or []:
            rb = det.location_data.relative_bounding_box
            x0, y0 = rb.xmin * w, rb.ymin * h
            x1, y1 = x0 + rb.width * w, y0 + rb.height * h
            kp = det.location_data.relative_keypoints
            # MediaPipe's keypoint 0 is the subject's right eye: the image-left one.
            eyes = ((kp[0].x * w, kp[0].y * h), (kp[1].x * w, kp[1].y * h))
            found.append(Detection((x0, y0, x1, y1), float(det.score[0]), eyes))
        found.sort(key=lambda d: d.score, reverse=True)
        return found

    def detect_tiled(self, rgb: np.ndarray, tiles: tuple[int, ...] = (640, 384)) -> list[Detection]:
        """Also search overlapping tiles, at two tile sizes: BlazeFace sees a
        downscaled 128/192-pixel image, so the small faces of a group photo
        vanish without tiling (on a 4 x 3 grid of 100-pixel faces, 640-pixel
        tiles find 9, 384-pixel tiles all 12). With the full-range model, the
        short-range one also looks for close-ups. Photos only: it costs
        tens of milliseconds a megapixel."""
        found = self.detect(rgb)
        if self._close_graph is not None:
            found += self.detect(rgb, self._close_graph)
        h, w = rgb.shape[:2]
        for tile in tiles:
            if max(h, w) <= tile * 1.25:
                continue
            step = int(tile * 0.75)
            for y in range(0, max(1, h - tile // 4), step):
                for x in range(0, max(1, w - tile // 4), step):
                    for d in self.detect(rgb[y:y + tile, x:x + tile]):
                        x0, y0, x1, y1 = d.box
                        eyes = tuple((ex + x, ey + y) for ex, ey in d.eyes)
                        found.append(Detection((x0 + x, y0 + y, x1 + x, y1 + y), d.score, eyes))
        return non_max_suppression(found)

    def crop_for(self, detection: Detection, landmark_scale: float) -> Crop:
        """The crop a model trained at `landmark_scale` expects for this detection."""
        c = self.calibration
        return crop_from_box(detection.box, c.extent_per_box, c.shift_y, landmark_scale, detection.eyes)

    def close(self) -> None:
        self._graph.close()
        if self._close_graph is not None:
            self._close_graph.close()
