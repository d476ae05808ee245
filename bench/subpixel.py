"""The decoder's deconvolutions as sub-pixel convolutions: which graph is faster, fp32 and int8?

    python -m bench.subpixel [--models small] [--calibration cache/corpus2/manifest.jsonl] [--profile]

For each model, six ONNX Runtime sessions on the same real face crops (the astronaut clip
through the app's detector and crop), with the app's settings (2 threads, no spinning): fp32
and int8, each with the decoder as trained (ConvTranspose) and rewritten as sub-pixel
convolutions, 3x3 and 2x2 + align (core/subpixel_deconv.py). The int8 graphs are quantised
here, calibrated like the shipped ones when `--calibration` names the corpus manifest (else on
the astronaut crops). Timed in alternation (bench.ort_settings.time_alternated: `--rounds`
rounds of `--repeats` calls); per-face median ms, the speed relative to the fp32 deconvolution
graph, and each graph's largest heatmap difference from it. `--profile` adds, per graph, ONNX
Runtime's own profile: each operator type's share of the network's time.
"""
from __future__ import annotations

import argparse
import collections
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np

from bench.ort_settings import face_crops, session, time_alternated
from core.config import default_weights_path


def operator_shares(data: bytes, crops: np.ndarray, threads: int, calls: int = 200) -> list[tuple[str, float]]:
    """(operator type, share of the summed kernel time), largest first, from ONNX Runtime's profiler."""
    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "profile")
        sess = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        for i in range(calls):
            sess.run(None, {name: crops[i % len(crops)]})
        events = json.loads(Path(sess.end_profiling()).read_text())
    per_op: collections.Counter = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            per_op[event["args"]["op_name"]] += event["dur"]
    total = sum(per_op.values())
    return [(op, dur / total) for op, dur in per_op.most_common()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # The int8 model: the small one (the default, on the face-mesh trunk, runs fp32 since round 13).
    parser.add_argument("--models", nargs="+", default=["small"])
    parser.add_argument("--calibration", help="corpus manifest for the int8 calibration crops")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="each graph's time per operator type")
    args = parser.parse_args(argv)

    from core.model import load_checkpoint
    from core.onnx_graph import export_onnx
    from core.subpixel_deconv import with_subpixel_decoder
    from training.export import calibration_crops, quantize_int8

    print(f"{args.threads} threads, no spinning; {args.rounds} rounds of {args.repeats} calls, alternated")
    print("| model | graph | per face ms (each round) | median | speed x fp32 deconvolution | max heatmap diff |")
    print("|---|---|---|---|---|---|")
    profiles = []
    for name in args.models:
        model = load_checkpoint(default_weights_path(68, name)).model.eval()
        calibration = calibration_crops(model, args.calibration)
        forms = {"deconvolution": model, "sub-pixel 3x3": with_subpixel_decoder(model, taps=3),
                 "sub-pixel 2x2 + align": with_subpixel_decoder(model, taps=2)}
        graphs = {}
        for form, variant in forms.items():
            fp32 = export_onnx(variant)
            graphs[f"fp32 {form}"] = fp32
            graphs[f"int8 {form}"] = quantize_int8(fp32, calibration)
        sessions = {label: session(data, args.threads, False, "all") for label, data in graphs.items()}
        crops = face_crops(name, 8)
        ref = sessions["fp32 deconvolution"].run(None, {"image": crops[0]})[0]
        diffs = {label: float(np.abs(s.run(None, {"image": crops[0]})[0] - ref).max()) for label, s in sessions.items()}
        times = time_alternated(sessions, crops, args.rounds, args.repeats)
        base = statistics.median(times["fp32 deconvolution"])
        for label, values in times.items():
            median = statistics.median(values)
            print(f"| {name} | {label} | {' / '.join(f'{v:.2f}' for v in values)} | {median:.2f} | "
                  f"{base / median:.2f} | {diffs[label]:.4f} |")
        if args.profile:
            profiles += [(name, label, operator_shares(data, crops, args.threads)) for label, data in graphs.items()]
    if profiles:
        print("\n| model | graph | share of the network's time per operator type (ONNX Runtime's profiler) |\n|---|---|---|")
        for name, label, shares in profiles:
            print(f"| {name} | {label} | " + ", ".join(f"{op} {share:.0%}" for op, share in shares if share >= 0.01) + " |")


if __name__ == "__main__":
    main()
