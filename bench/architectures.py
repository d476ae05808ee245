"""What would a cheaper network cost? Candidate MobileFAN shapes timed before any is trained.

    python -m bench.architectures [--rounds 3] [--repeats 200]

A network's time does not depend on its weights, so each candidate shape
(encoder: MobileNetV2 at a width, or MediaPipe's face-mesh trunk as in the
accurate model, with its PReLUs or with ReLUs; input size; deconvolution
channels) is built with random
weights, exported to fp32 ONNX the way the shipped models are and timed on
ONNX Runtime with the app's settings (its thread count, no spinning, all
graph optimisations), all candidates in alternation for `--rounds` rounds of
`--repeats` calls each. The table gives each one's median ms per face and
its ratio to the shipped small model's shape measured in the same run. int8
is left out on purpose: quantised from random weights, the MobileNetV2 small
shape ran 1.3x slower than that model's own trained int8 file in the same
run, so int8 time does depend on the weights here and only a trained
candidate can be timed for it (and no shipped model runs int8 since round
16). This chooses what is worth training for the speed issue; it says
nothing of accuracy, which only training and the steering set can tell
(weights/MODEL_CARD.md, the frontier).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from core.config import ModelConfig
from core.runtimes import OnnxRuntimeRunner
from core.threads import default_model_threads

# (label, encoder, width, input px, deconvolution channels[, the face-mesh trunk's activation: "prelu" if
# not given]); the first three are the shipped shapes.
CANDIDATES = (
    ("default (shipped): face-mesh trunk, 128 px, deconv 32", "face_mesh", 1.0, 128, 32),
    ("small (shipped): face-mesh trunk, 96 px, deconv 32", "face_mesh", 1.0, 96, 32),
    ("accurate (shipped): face-mesh trunk, 192 px, deconv 128", "face_mesh", 1.0, 192, 128),
    ("MobileNetV2 1.0, 128 px, deconv 128 (the default before round 13)", "mobilenetv2", 1.0, 128, 128),
    ("width 0.5, 96 px, deconv 64 (small before round 16)", "mobilenetv2", 0.5, 96, 64),
    ("width 1.0, 128 px, deconv 64", "mobilenetv2", 1.0, 128, 64),
    ("width 0.75, 128 px, deconv 64", "mobilenetv2", 0.75, 128, 64),
    ("width 1.0, 96 px, deconv 64", "mobilenetv2", 1.0, 96, 64),
    ("width 0.75, 96 px, deconv 64", "mobilenetv2", 0.75, 96, 64),
    ("width 0.5, 96 px, deconv 32", "mobilenetv2", 0.5, 96, 32),
    ("width 0.35, 96 px, deconv 64", "mobilenetv2", 0.35, 96, 64),
    ("width 0.35, 96 px, deconv 32", "mobilenetv2", 0.35, 96, 32),
    ("width 0.5, 64 px, deconv 64", "mobilenetv2", 0.5, 64, 64),
    ("width 0.35, 64 px, deconv 32", "mobilenetv2", 0.35, 64, 32),
    ("face-mesh trunk, 192 px, deconv 64", "face_mesh", 1.0, 192, 64),
    ("face-mesh trunk, 160 px, deconv 64", "face_mesh", 1.0, 160, 64),
    ("face-mesh trunk, 128 px, deconv 64 (the default in rounds 13-14)", "face_mesh", 1.0, 128, 64),
    ("face-mesh trunk, 96 px, deconv 16", "face_mesh", 1.0, 96, 16),
    ("face-mesh trunk, 64 px, deconv 32", "face_mesh", 1.0, 64, 32),
    ("face-mesh trunk with ReLU, 128 px, deconv 32", "face_mesh", 1.0, 128, 32, "relu"),
    ("face-mesh trunk with ReLU, 96 px, deconv 32", "face_mesh", 1.0, 96, 32, "relu"),
)
REFERENCE = "small (shipped): face-mesh trunk, 96 px, deconv 32"


def candidate_export(encoder: str, width: float, size: int, deconv: int, activation: str = "prelu",
                     seed: int = 0) -> tuple[bytes, int]:
    """(fp32 ONNX, parameters) of one shape with random weights."""
    import torch

    from core.model import MobileFAN, count_parameters
    from core.onnx_graph import export_onnx
    torch.manual_seed(seed)
    model = MobileFAN(ModelConfig(encoder=encoder, width=width, input_size=size, deconv_channels=deconv,
                                  trunk_activation=activation)).eval()
    return export_onnx(model), count_parameters(model)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=default_model_threads(),
                        help="model threads (default: the app's, %(default)s here)")
    parser.add_argument("--only", nargs="+", metavar="TEXT",
                        help="only the candidates whose label contains one of these (the shipped small one "
                             "is always kept: the ratios are to it)")
    args = parser.parse_args(argv)
    rows = []
    for label, encoder, width, size, deconv, *activation in CANDIDATES:
        if args.only and label != REFERENCE and not any(text in label for text in args.only):
            continue
        fp32, params = candidate_export(encoder, width, size, deconv, *activation)
        crops = np.random.default_rng(1).normal(0, 1, (8, 1, 3, size, size)).astype(np.float32)
        rows.append({"label": label, "shape": (encoder, width, size, deconv), "params": params, "crops": crops,
                     "runner": OnnxRuntimeRunner(fp32, args.threads, spinning=False), "ms": []})
    for _ in range(args.rounds):
        for row in rows:
            runner = row["runner"]
            for crop in row["crops"]:
                runner(crop)                                       # warm
            start = time.perf_counter()
            for i in range(args.repeats):
                runner(row["crops"][i % len(row["crops"])])
            row["ms"].append((time.perf_counter() - start) / args.repeats * 1e3)
    ref_ms = statistics.median(next(r for r in rows if r["label"] == REFERENCE)["ms"])
    print(f"Network only, fp32 ONNX Runtime, {args.threads} threads, median of {args.rounds} rounds x "
          f"{args.repeats} calls, one face a call (random weights)")
    print()
    print("| candidate | encoder | width | input px | deconv | parameters (M) | ms | x shipped small |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        encoder, width, size, deconv = row["shape"]
        ms = statistics.median(row["ms"])
        print(f"| {row['label']} | {encoder} | {width if encoder == 'mobilenetv2' else '-'} | {size} | {deconv} | "
              f"{row['params'] / 1e6:.2f} | {ms:.3f} | "
              f"{ms / ref_ms:.2f} |")


if __name__ == "__main__":
    main()
