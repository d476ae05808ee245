"""ONNX Runtime's settings for our small networks: which make a face cheaper?

    python -m bench.ort_settings [--models default small] [--threads 1 2]

For each model's shipped export (int8 where one ships, else fp32), one session per setting, all on the same real
face crops (the astronaut clip through the app's detector and crop), timed
in alternation (`--rounds` rounds of `--repeats` calls each): per-face median
milliseconds and the ratio to the app's current setting. Settings tried:
intra-op threads, thread spinning on or off, and the graph optimisation level
(basic, extended, all; the NCHWc layout transformer is part of "all").
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from core.config import PipelineConfig, default_weights_path
from core.weights import export_path


def session(data: bytes, threads: int, spinning: bool, level: str, save_optimised: str | None = None):
    """An ONNX Runtime session with these settings; `save_optimised`: also write the graph as it
    optimised it to that path (bench.graphs --layout)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    if save_optimised:
        options.optimized_model_filepath = save_optimised
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                                        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def face_crops(model: str, count: int) -> np.ndarray:
    from core.pipeline import LandmarkPipeline
    from core.synthetic_video import astronaut_rgb, moving_face_frames
    pipe = LandmarkPipeline(PipelineConfig(model=model, detector_range="full"))
    crops = []
    for frame in moving_face_frames(astronaut_rgb(), count, (640, 360)):
        for d in pipe.detector.detect(frame)[:1]:
            crop = pipe.detector.crop_for(d, pipe.model_config.landmark_scale)
            crops.append(pipe.predictor.crops(frame, [crop]))
    pipe.close()
    return np.stack([np.ascontiguousarray(c.transpose(0, 3, 1, 2), dtype=np.float32) for c in crops])


def time_alternated(sessions: dict, crops: np.ndarray, rounds: int, repeats: int) -> dict:
    """Milliseconds a call, per session per round: every session in turn each round (so a noisy
    machine hurts them alike), 10 warm-up calls before each timed run of `repeats` calls."""
    times: dict = {key: [] for key in sessions}
    for _ in range(rounds):
        for key, sess in sessions.items():
            name = sess.get_inputs()[0].name
            for crop in crops[:10]:
                sess.run(None, {name: crop})
            start = time.perf_counter()
            for i in range(repeats):
                sess.run(None, {name: crops[i % len(crops)]})
            times[key].append((time.perf_counter() - start) / repeats * 1e3)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["default", "small"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    print("| model | threads | spinning | optimisation | per face ms (median of rounds) | x app's setting |")
    print("|---|---|---|---|---|---|")
    for model in args.models:
        weights = default_weights_path(68, model)
        int8 = export_path(weights, ".int8.onnx")
        data = (int8 if int8.is_file() else export_path(weights)).read_bytes()
        crops = face_crops(model, 40)
        settings = [(t, s, lvl) for t in args.threads for s in (True, False) for lvl in ("all", "extended", "basic")]
        sessions = {k: session(data, *k) for k in settings}
        times = time_alternated(sessions, crops, args.rounds, args.repeats)
        app = (PipelineConfig().num_threads, PipelineConfig.ort_spinning, "all")   # the app's own settings here
        base = statistics.median(times[app]) if app in times else None
        for key in settings:
            ms = statistics.median(times[key])
            ratio = f"{ms / base:.2f}" if base else "-"
            print(f"| {model} | {key[0]} | {'on' if key[1] else 'off'} | {key[2]} | {ms:.3f} | {ratio} |")


if __name__ == "__main__":
    main()
