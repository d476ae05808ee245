"""MobileFAN Live: real-time 68/98-point facial landmarks from a webcam or a file.

    python main.py                                   # GUI on camera 0
    python main.py --source clip.mp4 --csv out.csv   # GUI on a video, recording from the start
    python main.py --headless --source photos/ --csv out.csv --save-overlay overlays/
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import PipelineConfig, SmoothingConfig, default_weights_path
from core.runtimes import RUNTIMES


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python main.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="0",
                   help="camera index (0, 1, ...), video file, image file, or folder of images (default: 0)")
    p.add_argument("--points", type=int, choices=(68, 98), default=68, help="landmark layout (default: 68)")
    p.add_argument("--weights", type=Path, help="model checkpoint (default: weights/mobilefan_<points>.pt)")
    p.add_argument("--csv", type=Path, help="record landmark tracks to this CSV file from the start")
    p.add_argument("--headless", action="store_true",
                   help="no window: process every frame of --source, write --csv, show a progress bar")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N processed frames")
    p.add_argument("--save-overlay", type=Path, metavar="DIR",
                   help="headless: save frames with the landmarks drawn (every photo; every 10th video frame)")
    p.add_argument("--detector", choices=("auto", "short", "full"), default="auto",
                   help="BlazeFace model: short range (webcam), full range (photos, far faces); "
                        "auto picks short for cameras, full for files (default)")
    p.add_argument("--no-smoothing", action="store_true", help="start with the One Euro filter off")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for the model (default: 2)")
    p.add_argument("--runtime", choices=RUNTIMES, default=PipelineConfig.runtime,
                   help=f"inference back-end (default: {PipelineConfig.runtime}; see README, Performance)")
    return p


def make_config(args: argparse.Namespace) -> PipelineConfig:
    detector = args.detector
    if detector == "auto":
        detector = "short" if str(args.source).isdigit() else "full"
    return PipelineConfig(points=args.points, weights=args.weights, detector_range=detector,
                          num_threads=max(1, args.threads), runtime=args.runtime,
                          smoothing=SmoothingConfig(enabled=not args.no_smoothing))


def run_headless_cli(args: argparse.Namespace) -> int:
    from core.headless import run_headless
    from core.model import WeightsError
    from core.pipeline import LandmarkPipeline
    from core.recorder import RecorderError
    from core.runtimes import RuntimeUnavailable
    from core.sources import SourceError, open_source

    config = make_config(args)
    try:
        source = open_source(args.source)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if source.live and args.max_frames is None and args.csv is None:
        print("error: headless from a camera needs --max-frames or --csv (else it never ends)", file=sys.stderr)
        return 2
    try:
        pipeline = LandmarkPipeline(config)
    except WeightsError as exc:
        print(f"error: {exc}\nTrained weights belong in {default_weights_path(args.points)}; "
              f"see weights/MODEL_CARD.md.", file=sys.stderr)
        source.close()
        return 2
    except RuntimeUnavailable as exc:
        print(f"error: runtime {args.runtime}: {exc}", file=sys.stderr)
        source.close()
        return 2
    try:
        summary = run_headless(source, pipeline, args.csv, args.max_frames, args.save_overlay)
    except (RecorderError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        pipeline.close()
    print(f"{summary.frames} frames, {summary.faces} faces, {summary.fps:.1f} frames/s"
          + (f", {summary.rows} rows -> {args.csv}" if args.csv else "")
          + (f"; overlays in {args.save_overlay}" if args.save_overlay else ""))
    if summary.skipped:
        print(f"skipped unreadable files: {', '.join(summary.skipped)}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        print("error: --max-frames must be at least 1", file=sys.stderr)
        return 2
    if args.headless:
        return run_headless_cli(args)
    from app.main_window import run_gui
    return run_gui(make_config(args), source=args.source, csv_path=args.csv, max_frames=args.max_frames)


if __name__ == "__main__":
    sys.exit(main())
