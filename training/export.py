"""Export trained weights for the faster runtimes: ONNX and static int8.

    python -m training.export                      # weights/mobilefan_68.pt -> .onnx and .int8.onnx
    python -m training.export --points 98
    python -m training.export --weights my.pt --calibration cache/corpus/manifest.jsonl
    python -m training.export --retag --weights weights/mobilefan_68.pt   # tags only, same graph

Writes ONNX (opset 17, dynamic batch) beside the checkpoint, plus a static
int8 (QDQ) version, its deconvolutions rewritten as sub-pixel convolutions
(core/subpixel_deconv.py), calibrated on real face crops: from a corpus manifest
when given, else from the scikit-image astronaut clip. Both record the
checkpoint's SHA-256, so the app only uses an export of the weights it loaded,
and its `ModelConfig`, so the app runs an export without torch (core/weights.py).
`--retag` rewrites only those tags on existing exports (the graphs, and so
every answer, stay the same).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from core.config import default_weights_path
from core.model import MobileFAN, load_checkpoint
from core.errors import MobileFANError
from core.onnx_graph import export_onnx
from core.weights import file_sha256, tag_export


def quantize_int8(onnx_bytes: bytes, calibration: np.ndarray, input_name: str = "image",
                  per_channel: bool = True) -> bytes:
    """Static int8 QDQ quantisation (per-channel weights unless asked otherwise), calibrated on real
    crops fed one at a time to the graph's input `input_name`.

    Dynamic quantisation only covers MatMul/Gemm; a convolutional network
    needs static activation ranges to gain anything.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{input_name: calibration[i:i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(onnx_bytes)
        quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return dst.read_bytes()


def calibration_crops(model: MobileFAN, data: str | None, count: int = 64) -> np.ndarray:
    """(count, 3, S, S) float32 face crops framed the way the model was trained."""
    if data is not None:
        from training.datasets import load_samples
        from training.evaluate import sample_crops
        samples = load_samples(data, "train")
        return sample_crops(model, samples[::max(1, len(samples) // count)][:count])
    from core.detector import BlazeFaceDetector
    from core.predictor import LandmarkPredictor
    from core.synthetic_video import astronaut_rgb, moving_face_frames
    from core.torch_runners import TorchRunner
    predictor = LandmarkPredictor(model.config, TorchRunner(model))
    detector = BlazeFaceDetector("full")
    crops = []
    for rgb in moving_face_frames(astronaut_rgb(), count):
        for d in detector.detect(rgb)[:1]:
            crops.append(predictor.crops(rgb, [detector.crop_for(d, model.config.landmark_scale)])[0])
    detector.close()
    return np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32)


def export(weights: Path, calibration: str | None = None, int8: bool = True) -> list[Path]:
    model = load_checkpoint(weights).model
    sha = file_sha256(weights)
    fp32 = weights.with_suffix(".onnx")
    fp32.write_bytes(export_onnx(model, source_sha=sha))
    written = [fp32]
    if int8:
        # Quantised from the sub-pixel form of the decoder: ONNX Runtime has no int8 ConvTranspose.
        data = quantize_int8(export_onnx(model, subpixel=True), calibration_crops(model, calibration))
        out = weights.with_suffix(".int8.onnx")
        out.write_bytes(tag_export(data, sha, model.config))
        written.append(out)
    return written


def retag(weights: Path) -> list[Path]:
    """Tag the exports beside `weights` with its hash and config; the graphs are untouched.
    Refuses an export made from other weights (its recorded hash differs)."""
    from core.weights import CHECKPOINT_KEY, WeightsError, export_path, onnx_metadata
    config = load_checkpoint(weights).model.config
    sha = file_sha256(weights)
    written = []
    for suffix in (".onnx", ".int8.onnx"):
        path = export_path(weights, suffix)
        if not path.is_file():
            continue
        data = path.read_bytes()
        if onnx_metadata(data).get(CHECKPOINT_KEY) != sha:
            raise WeightsError(f"{path} was not made from {weights}: export it again instead")
        path.write_bytes(tag_export(data, sha, config))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, choices=(68, 98), default=68)
    parser.add_argument("--weights", type=Path, help="checkpoint (default: weights/mobilefan_<points>.pt)")
    parser.add_argument("--calibration", help="data spec (corpus manifest) for int8 calibration crops")
    parser.add_argument("--no-int8", action="store_true")
    parser.add_argument("--retag", action="store_true",
                        help="only rewrite the checkpoint hash and config in the existing exports")
    args = parser.parse_args(argv)
    weights = args.weights or default_weights_path(args.points)
    try:
        written = retag(weights) if args.retag else export(weights, args.calibration, not args.no_int8)
    except MobileFANError as exc:
        parser.exit(exc.exit_code, f"error: {exc}\n")
    for path in written:
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
