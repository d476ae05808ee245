"""What decoding a file ahead in a thread (at which priority), and ONNX Runtime's thread spinning,
do to a headless run.

    python -m bench.read_ahead                                   # the corpus's talking-head clip
    python -m bench.read_ahead --video talk.mp4 --model small --rounds 8 --depths 0 4 --spinning on off
    python -m bench.read_ahead --depths 4 --spinning on --nices 0 10 19            # the decoder's priority
    python -m bench.read_ahead --depths 4 --spinning on --nices 0 10 19 --busy 2   # ... beside 2 busy loops

One process, one pipeline per model and spinning setting, and the whole video run through
`run_headless` (decoding, the pipeline, the CSV) once per combination per round, the combinations
alternated (reversed every other round) so that the machine's drifts fall on all alike. Prints
frames/s per round and the median of the per-round ratios to the first combination (the first
depth with the first spinning setting and nice): ratios of one run, since this machine's speed
swings 2x. `--nices`: the decoder's nice values above the pipeline's (`--decode-nice`; with
read-ahead only). `--busy N`: N busy Python loops run beside the whole measurement, started from
this process (so in its session: the case where a lowered decoder loses its share of the cores).
Read-ahead and the decoder's priority: core/read_ahead.py; spinning: PipelineConfig.ort_spinning
(core/runtimes.py).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.versus import default_video
from core.config import MODEL_SIZES, PipelineConfig
from core.headless import open_run, run_headless
from core.read_ahead import decoder_nice
from core.sources import open_source
from core.threads import default_model_threads


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path)
    parser.add_argument("--model", nargs="+", choices=MODEL_SIZES, default=["default", "small"])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--depths", type=int, nargs="+", default=[0, 4])
    parser.add_argument("--spinning", nargs="+", choices=["on", "off"], default=["on", "off"])
    parser.add_argument("--nices", type=int, nargs="+", default=[0])
    parser.add_argument("--busy", type=int, default=0, metavar="N")
    parser.add_argument("--threads", type=int, default=default_model_threads())
    args = parser.parse_args(argv)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        run(args)
    finally:
        for loop in busy:
            loop.kill()
            loop.wait()


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = args.video or default_video(tmp)
        print(f"{video.name}; {args.rounds} rounds, alternated; threads {args.threads}; "
              f"{args.busy} busy loops beside\n")
        print("| model | ORT spinning | read-ahead | decoder nice | frames/s (each round) | median x first row |\n"
              "|---|---|---|---|---|---|")
        combos = [(spin, depth, nice) for spin in args.spinning for depth in args.depths
                  for nice in (args.nices if depth else [0])]
        for model in args.model:
            pipelines = {}
            for spin in args.spinning:
                config = PipelineConfig(model=model, num_threads=args.threads, ort_spinning=spin == "on")
                pipelines[spin] = (config, open_run(config, None)[0])
                run_headless(open_source(video), pipelines[spin][1], progress=False, max_frames=30)   # warm-up
            fps: dict[tuple[str, int, int], list[float]] = {c: [] for c in combos}
            for round_ in range(args.rounds):
                for spin, depth, nice in (combos if round_ % 2 == 0 else combos[::-1]):
                    config, pipeline = pipelines[spin]
                    pipeline.reset()
                    _, recorder = open_run(config, tmp / "read_ahead.csv", overwrite=True, pipeline=pipeline)
                    summary = run_headless(open_source(video, decoder_nice(depth, nice)), pipeline, recorder,
                                           progress=False, read_ahead=depth, decode_nice=nice)
                    fps[spin, depth, nice].append(summary.fps)
            for _, pipeline in pipelines.values():
                pipeline.close()
            for combo in combos:
                ratio = statistics.median(a / b for a, b in zip(fps[combo], fps[combos[0]]))
                each = " / ".join(f"{v:.0f}" for v in fps[combo])
                print(f"| {model} | {combo[0]} | {combo[1] or 'off'} | {combo[2]} | {each} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
