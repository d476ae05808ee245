"""The decoder's deconvolutions as sub-pixel convolutions: which graph is faster, fp32 and int8?

    python -m bench.subpixel [--models default small accurate] [--calibration cache/corpus2/manifest.jsonl]

For each model, four ONNX Runtime sessions on the same real face crops (the astronaut clip
through the app's detector and crop), with the app's settings (2 threads, no spinning):
fp32 and int8, each with the decoder as trained (ConvTranspose) and rewritten as sub-pixel
convolutions, 3x3 and 2x2 + align (core/subpixel_deconv.py). The int8 graphs are quantised here, calibrated like the
shipped ones when `--calibration` names the corpus manifest (else on the astronaut crops).
Timed in alternation (`--rounds` rounds of `--repeats` calls); per-face median ms, the ratio to
the fp32 deconvolution graph, and each graph's largest heatmap difference from it.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.ort_settings import face_crops, session
from core.config import default_weights_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["default", "small"])
    parser.add_argument("--calibration", help="corpus manifest for the int8 calibration crops")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)

    from core.model import load_checkpoint
    from core.onnx_graph import export_onnx
    from core.subpixel_deconv import with_subpixel_decoder
    from training.export import calibration_crops, quantize_int8

    print(f"{args.threads} threads, no spinning; {args.rounds} rounds of {args.repeats} calls, alternated")
    print("| model | graph | per face ms (each round) | median | speed x fp32 deconvolution | max heatmap diff |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        model = load_checkpoint(default_weights_path(68, name)).model.eval()
        calibration = calibration_crops(model, args.calibration)
        graphs = {}
        forms = {"deconvolution": model, "sub-pixel 3x3": with_subpixel_decoder(model, taps=3),
                 "sub-pixel 2x2 + align": with_subpixel_decoder(model, taps=2)}
        for form, variant in forms.items():
            fp32 = export_onnx(variant)
            graphs[f"fp32 {form}"] = fp32
            graphs[f"int8 {form}"] = quantize_int8(fp32, calibration)
        sessions = {label: session(data, args.threads, False, "all") for label, data in graphs.items()}
        crops = face_crops(name, 8)
        ref = sessions["fp32 deconvolution"].run(None, {"image": crops[0]})[0]
        diffs = {label: float(np.abs(s.run(None, {"image": crops[0]})[0] - ref).max()) for label, s in sessions.items()}
        times: dict[str, list[float]] = {label: [] for label in sessions}
        for _ in range(args.rounds):
            for label, s in sessions.items():
                start = time.perf_counter()
                for i in range(args.repeats):
                    s.run(None, {"image": crops[i % len(crops)]})
                times[label].append((time.perf_counter() - start) * 1000 / args.repeats)
        base = statistics.median(times["fp32 deconvolution"])
        for label, values in times.items():
            median = statistics.median(values)
            print(f"| {name} | {label} | {' / '.join(f'{v:.2f}' for v in values)} | {median:.2f} | "
                  f"{base / median:.2f} | {diffs[label]:.4f} |")


if __name__ == "__main__":
    main()
