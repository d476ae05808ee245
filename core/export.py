"""Export trained weights for the faster runtimes.

    python -m core.export                      # weights/mobilefan_68.pt -> .onnx and .int8.onnx
    python -m core.export --points 98
    python -m core.export --weights my.pt --calibration cache/corpus/manifest.jsonl

Writes ONNX (opset 17, dynamic batch) beside the checkpoint, plus a static
int8 (QDQ) version calibrated on real face crops: from a corpus manifest
when given, else from the scikit-image astronaut clip. Both record the
checkpoint's SHA-256, so the app only uses an export of the weights it loaded.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core.config import CropConfig, default_weights_path
from core.model import MobileFAN, load_checkpoint
from core.runtimes import export_onnx, file_sha256, quantize_int8, tag_with_checkpoint


def calibration_crops(model: MobileFAN, manifest: Path | None, count: int = 64) -> np.ndarray:
    """(count, 3, S, S) float32 face crops framed the way the app frames them."""
    from core.data.datasets import _read_rgb, load_corpus
    from core.geometry import crop_from_landmarks
    from core.landmarks import layout_for
    from core.predictor import LandmarkPredictor

    predictor = LandmarkPredictor(model)
    layout = layout_for(model.config.num_points)
    crops = []
    if manifest is not None:
        samples = load_corpus(manifest, "train")
        step = max(1, len(samples) // count)
        for s in samples[::step][:count]:
            crop = crop_from_landmarks(s.points, layout, CropConfig())
            crops.append(predictor.crops(_read_rgb(str(s.image)), [crop])[0])
    else:
        import cv2

        from core.detector import BlazeFaceDetector
        from core.geometry import crop_from_detection
        from core.synthetic_video import astronaut_bgr, moving_face_frames
        detector = BlazeFaceDetector("full")
        for frame in moving_face_frames(astronaut_bgr(), count):
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            for d in detector.detect(rgb)[:1]:
                crops.append(predictor.crops(rgb, [crop_from_detection(d.box, CropConfig(), d.eyes)])[0])
        detector.close()
    return np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32)


def export(weights: Path, calibration: Path | None = None, int8: bool = True) -> list[Path]:
    loaded = load_checkpoint(weights)
    sha = file_sha256(weights)
    fp32 = weights.with_suffix(".onnx")
    export_onnx(loaded.model, fp32, source_sha=sha)
    written = [fp32]
    if int8:
        data = quantize_int8(fp32.read_bytes(), calibration_crops(loaded.model, calibration))
        out = weights.with_suffix(".int8.onnx")
        out.write_bytes(tag_with_checkpoint(data, sha))
        written.append(out)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, choices=(68, 98), default=68)
    parser.add_argument("--weights", type=Path, help="checkpoint (default: weights/mobilefan_<points>.pt)")
    parser.add_argument("--calibration", type=Path, help="corpus manifest for int8 calibration crops")
    parser.add_argument("--no-int8", action="store_true")
    args = parser.parse_args(argv)
    weights = args.weights or default_weights_path(args.points)
    for path in export(weights, args.calibration, not args.no_int8):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
