"""What decoding a file ahead in a thread, and ONNX Runtime's thread spinning, do to a headless run.

    python -m bench.read_ahead                                   # the corpus's talking-head clip
    python -m bench.read_ahead --video talk.mp4 --model small --rounds 8 --depths 0 4 --spinning on off

One process, one pipeline per model and spinning setting, and the whole video run through
`run_headless` (decoding, the pipeline, the CSV) once per combination per round, the combinations
alternated (reversed every other round) so that the machine's drifts fall on all alike. Prints
frames/s per round and the median of the per-round ratios to the first combination (the first
depth with the first spinning setting): ratios of one run, since this machine's speed swings 2x.
Read-ahead: core/read_ahead.py; spinning: PipelineConfig.ort_spinning (core/runtimes.py).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench.versus import default_video
from core.config import MODEL_SIZES, PipelineConfig
from core.headless import open_run, run_headless
from core.sources import open_source


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path)
    parser.add_argument("--model", nargs="+", choices=MODEL_SIZES, default=["default", "small"])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--depths", type=int, nargs="+", default=[0, 4])
    parser.add_argument("--spinning", nargs="+", choices=["on", "off"], default=["on", "off"])
    parser.add_argument("--threads", type=int, default=PipelineConfig.num_threads)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = args.video or default_video(tmp)
        print(f"{video.name}; {args.rounds} rounds, alternated; threads {args.threads}\n")
        print("| model | ORT spinning | read-ahead | frames/s (each round) | median x first row |\n|---|---|---|---|---|")
        combos = [(spin, depth) for spin in args.spinning for depth in args.depths]
        for model in args.model:
            pipelines = {}
            for spin in args.spinning:
                config = PipelineConfig(model=model, num_threads=args.threads, ort_spinning=spin == "on")
                pipelines[spin] = (config, open_run(config, None)[0])
                run_headless(open_source(video), pipelines[spin][1], progress=False, max_frames=30)   # warm-up
            fps: dict[tuple[str, int], list[float]] = {c: [] for c in combos}
            for round_ in range(args.rounds):
                for spin, depth in (combos if round_ % 2 == 0 else combos[::-1]):
                    config, pipeline = pipelines[spin]
                    pipeline.reset()
                    _, recorder = open_run(config, tmp / "read_ahead.csv", overwrite=True, pipeline=pipeline)
                    summary = run_headless(open_source(video), pipeline, recorder, progress=False, read_ahead=depth)
                    fps[spin, depth].append(summary.fps)
            for _, pipeline in pipelines.values():
                pipeline.close()
            for combo in combos:
                ratio = statistics.median(a / b for a, b in zip(fps[combo], fps[combos[0]]))
                each = " / ".join(f"{v:.0f}" for v in fps[combo])
                print(f"| {model} | {combo[0]} | {combo[1] or 'off'} | {each} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
