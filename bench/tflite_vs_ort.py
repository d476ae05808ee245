"""The face-mesh network in two runtimes: MediaPipe's own (TFLite with XNNPACK) against ONNX Runtime.

    python -m bench.tflite_vs_ort [--threads 1 2] [--rounds 7] [--repeats 100]

The default and accurate models run MediaPipe's face-landmark trunk in ONNX Runtime, where it is
slower than its multiply-adds promise (before core/split_prelu.py its PReLU activations and the
layout changes around them took ~40% of the time: `python -m bench.graphs --profile`). This asks
how much the runtime is the reason: the wheel's `face_landmark.tflite` run by `tflite-runtime`
(XNNPACK, as MediaPipe runs it), against the same network with the same weights (our PyTorch port,
core/face_mesh_net.py, exported to ONNX as the app's models are, PReLU split) run by ONNX Runtime
with the app's settings. Same 192 px input,
timed in alternation; per-call median ms and the ratio. Needs requirements-dev.txt (tflite-runtime).
"""
from __future__ import annotations

import argparse
import io
import statistics
import time
import warnings

import numpy as np


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args(argv)
    import torch
    from tflite_runtime.interpreter import Interpreter

    import cv2

    from bench.ort_settings import session
    from core.split_prelu import with_split_prelu
    from core.synthetic_video import astronaut_rgb
    from training.tflite_weights import face_landmark_path, load_face_mesh_net

    face = cv2.resize(astronaut_rgb()[20:260, 120:360], (192, 192)).astype(np.float32) / 255
    nhwc = face[None]
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    buffer = io.BytesIO()
    with warnings.catch_warnings():          # the exporter's notes on a fixed-size trace (core/onnx_graph.py)
        warnings.simplefilter("ignore")
        torch.onnx.export(with_split_prelu(load_face_mesh_net()), (torch.from_numpy(nchw),), buffer, input_names=["image"],
                          opset_version=17, dynamo=False)
    calls = {}
    for threads in args.threads:
        interpreter = Interpreter(model_path=str(face_landmark_path()), num_threads=threads)
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[0]["index"]

        def tflite(interpreter=interpreter, index=index) -> None:
            interpreter.set_tensor(index, nhwc)
            interpreter.invoke()
        sess = session(buffer.getvalue(), threads, False, "all")
        calls[("TFLite + XNNPACK (mediapipe's face_landmark.tflite)", threads)] = tflite
        calls[("ONNX Runtime (the same network, our port)", threads)] = \
            lambda sess=sess: sess.run(None, {"image": nchw})
    times: dict = {key: [] for key in calls}
    for _ in range(args.rounds):
        for key, call in calls.items():
            for _ in range(10):
                call()
            start = time.perf_counter()
            for _ in range(args.repeats):
                call()
            times[key].append((time.perf_counter() - start) / args.repeats * 1e3)
    print(f"192 px, one face a call; {args.rounds} rounds of {args.repeats} calls, alternated")
    print("| runtime | threads | ms a call (each round) | median | x ONNX Runtime, same threads |")
    print("|---|---|---|---|---|")
    for (label, threads), values in times.items():
        ort_median = statistics.median(times[("ONNX Runtime (the same network, our port)", threads)])
        median = statistics.median(values)
        print(f"| {label} | {threads} | {' / '.join(f'{v:.2f}' for v in values)} | {median:.2f} | "
              f"{ort_median / median:.2f} |")


if __name__ == "__main__":
    main()
