"""MobileFAN runtimes side by side with dlib and MediaPipe, on the same faces.

    python -m bench.runtimes                                   # astronaut clip, 68 points
    python -m bench.runtimes --video franck.mp4 --manifest cache/corpus/manifest.jsonl
    python -m bench.runtimes --skip torch torchscript onnxruntime onnxruntime-int8 opencv mediapipe-mesh \
        --also weights/mobilefan_68_small.pt --rounds 3         # small against dlib, alternated

Each back-end runs in its own process (so peak RSS is its own) over the same
decoded frames: per-face model latency (p50/p95), end-to-end pipeline FPS
(detect + track + crop + model + decode + smooth), and, with --manifest, the
validation NME, to check that a faster runtime does not cost accuracy. dlib's
68-point predictor and MediaPipe's face mesh run on the same face boxes.
Ratios are against eager PyTorch. `--rounds N` runs the back-ends N times, alternated (the order
reversed every other round), and adds a table of each one's per-face time per round and its
ratio to dlib's in the same round: this machine's speed drifts between processes, so a ratio
is only as good as the rounds it was measured in.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from bench.pipeline_stages import read_frames

OTHERS = ("dlib-68", "mediapipe-mesh")


def _percentiles(values: list[float]) -> tuple[float, float]:
    v = np.array(values)
    return float(np.percentile(v, 50)), float(np.percentile(v, 95))


def face_detections(frames: list[np.ndarray]) -> tuple[list[tuple[np.ndarray, list]], object]:
    """Per RGB frame, the BlazeFace detections (shared by every back-end), and the detector."""
    from core.detector import BlazeFaceDetector
    det = BlazeFaceDetector("full")
    return [(f, det.detect(f)) for f in frames], det


def run_one(name: str, frames: list[np.ndarray], args) -> dict:
    from core.config import PipelineConfig
    record: dict = {"name": name}
    detections, detector = face_detections(frames)
    latencies: list[float] = []
    if name in OTHERS:
        if name == "dlib-68":
            import dlib

            from training.teachers import label_teacher_path
            predictor = dlib.shape_predictor(str(label_teacher_path()))
            for rgb, dets in detections:
                gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
                for d in dets:
                    rect = dlib.rectangle(*[int(v) for v in d.box])
                    t = time.perf_counter()
                    predictor(gray, rect)
                    latencies.append((time.perf_counter() - t) * 1e3)
        else:
            from mediapipe.python.solutions import face_mesh
            mesh = face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1)
            from core.geometry import warp_crop
            for rgb, dets in detections:
                for d in dets:
                    patch = warp_crop(rgb, detector.crop_for(d, 1.7), 256)
                    t = time.perf_counter()
                    mesh.process(patch)
                    latencies.append((time.perf_counter() - t) * 1e3)
        record["model_p50"], record["model_p95"] = _percentiles(latencies)
        record.setdefault("face_p50", record["model_p50"])
        record["fps"] = None
    else:
        from core.pipeline import LandmarkPipeline
        pipe = LandmarkPipeline(PipelineConfig(points=args.points, weights=args.weights, runtime=name,
                                               detector_range="full", num_threads=args.threads))
        scale = pipe.model_config.landmark_scale
        faces = [(rgb, detector.crop_for(d, scale)) for rgb, dets in detections for d in dets[:1]]
        crops = [pipe.predictor.crops(rgb, [crop]) for rgb, crop in faces]
        batches = [np.ascontiguousarray(c.transpose(0, 3, 1, 2), dtype=np.float32) for c in crops]
        for b in batches[:10]:
            pipe.predictor.runner(b)
        for b in batches:
            t = time.perf_counter()
            pipe.predictor.runner(b)
            latencies.append((time.perf_counter() - t) * 1e3)
        record["model_p50"], record["model_p95"] = _percentiles(latencies)
        per_face = []                                   # what a face costs: crop + network + decode
        for rgb, crop in faces:
            t = time.perf_counter()
            pipe.predictor.predict(rgb, [crop])
            per_face.append((time.perf_counter() - t) * 1e3)
        record["face_p50"], _ = _percentiles(per_face)
        pipe.prepare_for_source(live=False)
        for i, f in enumerate(frames[:10]):
            pipe.process(f, i / 30)
        pipe.reset()
        start = time.perf_counter()
        for i, f in enumerate(frames):
            pipe.process(f, i / 30)
        record["fps"] = len(frames) / (time.perf_counter() - start)
        if args.manifest:
            from training.datasets import load_samples
            from training.evaluate import evaluate_samples
            from core.model import load_checkpoint
            model = load_checkpoint(pipe.config.weights_path()).model
            record["nme"] = evaluate_samples(model, load_samples(str(args.manifest), "val"),
                                             runner=pipe.predictor.runner)["nme"]
        pipe.close()
    detector.close()
    record["faces"] = len(latencies)
    record["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return record


def main(argv: list[str] | None = None) -> None:
    from core.config import RUNTIMES
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--points", type=int, default=68)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--manifest", type=Path, help="corpus manifest: adds validation NME per runtime")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--skip", nargs="*", default=[], help="back-ends to leave out")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--also", type=Path, nargs="+", default=[], metavar="WEIGHTS",
                        help="more checkpoints (e.g. weights/mobilefan_68_small.pt weights/mobilefan_68_accurate.pt), "
                             "each run with the default runtime (auto) in the same run, for side-by-side ratios")
    args = parser.parse_args(argv)
    if args.video is None:
        from core.synthetic_video import make_face_video
        args.video = make_face_video(Path(tempfile.mkdtemp()) / "astronaut.mp4", frames=args.frames)
    if args.only:
        print(json.dumps(run_one(args.only, read_frames(args.video, args.frames), args)))
        return

    from core.config import PipelineConfig
    # "auto" is int8 for the default weights (the row below); with --also it shows what it picks.
    runs = [(n, args.weights, n) for n in (*RUNTIMES, *OTHERS) if n not in args.skip and n != "auto"]
    for weights in args.also:
        runs.append((PipelineConfig.runtime, weights, f"{PipelineConfig.runtime} ({weights.stem})"))
    per_round: dict[str, list[dict]] = {label: [] for _, _, label in runs}
    for round_ in range(max(1, args.rounds)):
        for name, weights, label in (runs if round_ % 2 == 0 else runs[::-1]):
            cmd = [sys.executable, "-m", "bench.runtimes", "--only", name, "--video", str(args.video),
                   "--frames", str(args.frames), "--points", str(args.points), "--threads", str(args.threads)]
            for flag, value in (("--weights", weights), ("--manifest", args.manifest if round_ == 0 else None)):
                if value:
                    cmd += [flag, str(value)]
            result = subprocess.run(cmd, capture_output=True, text=True)
            lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
            if result.returncode != 0 or not lines:
                print(f"[{label}] failed: {result.stderr.strip()[-300:]}", file=sys.stderr)
                continue
            per_round[label].append({**json.loads(lines[-1]), "name": label})
    rows = [median_record(records) for records in per_round.values() if records]
    frame = read_frames(args.video, 1)[0]
    base = next((r for r in rows if r["name"] == "torch"), rows[0])
    print(f"video: {args.video.name} {frame.shape[1]}x{frame.shape[0]}, {args.frames} frames; "
          f"{platform.machine()}, {args.threads} threads; model {args.points} points\n")
    dlib_face = next((r["face_p50"] for r in rows if r["name"] == "dlib-68"), None)
    print("| back-end | model p50 ms | p95 ms | x eager | per face p50 ms (crop+net+decode) | x dlib's | "
          "pipeline FPS | x eager | val NME | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        fps = f"{r['fps']:.1f}" if r.get("fps") else "-"
        fps_ratio = f"{r['fps'] / base['fps']:.2f}" if r.get("fps") and base.get("fps") else "-"
        nme_text = f"{r['nme']:.4f}" if "nme" in r else "-"
        face = r.get("face_p50")
        vs_dlib = f"{face / dlib_face:.2f}" if face and dlib_face else "-"
        print(f"| {r['name']} | {r['model_p50']:.2f} | {r['model_p95']:.2f} | "
              f"{base['model_p50'] / r['model_p50']:.2f} | {face:.2f} | {vs_dlib} | {fps} | {fps_ratio} | {nme_text} | "
              f"{r['peak_rss_mb']:.0f} |")
    dlib_rounds = per_round.get("dlib-68", [])
    if args.rounds > 1 and dlib_rounds:
        print(f"\n{args.rounds} rounds, alternated: per face p50 ms each round, and x dlib's in the same round\n")
        print("| back-end | per face p50 ms (each round) | x dlib's (each round) | median x dlib's |\n|---|---|---|---|")
        for label, records in per_round.items():
            if len(records) != len(dlib_rounds):
                continue
            times = [r["face_p50"] for r in records]
            ratios = [t / d["face_p50"] for t, d in zip(times, dlib_rounds)]
            each_time = " / ".join(f"{t:.2f}" for t in times)
            each_ratio = " / ".join(f"{x:.2f}" for x in ratios)
            print(f"| {label} | {each_time} | {each_ratio} | {statistics.median(ratios):.2f} |")


def median_record(records: list[dict]) -> dict:
    """One back-end's rounds as one row: each number the median over the rounds (NME: the first round's)."""
    out = dict(records[0])
    for key in ("model_p50", "model_p95", "face_p50", "fps", "peak_rss_mb"):
        values = [r[key] for r in records if r.get(key) is not None]
        if values:
            out[key] = statistics.median(values)
    return out


if __name__ == "__main__":
    main()
