"""MobileFAN Live: real-time 68/98-point facial landmarks from a webcam or a file.

    python main.py                                   # GUI on camera 0
    python main.py --source clip.mp4 --csv out.csv   # GUI on a video, recording from the start
    python main.py --headless --source photos/ --csv out.csv --save-overlay overlays/

Exit status: 0 done, 1 a failure while running (e.g. the disk filled up),
2 bad input or options (nothing was written), 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from core.config import (DETECTOR_RANGES, MODEL_SIZES, CameraOverrides, PipelineConfig, SmoothingConfig,
                         default_weights_path)
from core.runtimes import RUNTIMES


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python main.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="0",
                   help="camera index (0, 1, ...), video file, image file, or folder of images (default: 0)")
    p.add_argument("--points", type=int, choices=(68, 98),
                   help="landmark layout (default: 68; the window remembers the last choice)")
    p.add_argument("--model", choices=MODEL_SIZES,
                   help="shipped model: default, or small (faster per face, a little less accurate); "
                        "the window remembers the last choice")
    p.add_argument("--weights", type=Path, help="model checkpoint (default: the shipped one for --points and --model)")
    p.add_argument("--csv", type=Path, help="record landmark tracks to this CSV file from the start")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --csv file or existing overlays (default: refuse)")
    p.add_argument("--headless", action="store_true",
                   help="no window: process every frame of --source, write --csv, show a progress bar")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N processed frames")
    p.add_argument("--save-overlay", type=Path, metavar="DIR",
                   help="headless: save frames with the landmarks drawn (every photo, as NAME.EXT.jpg; "
                        "every 10th video frame)")
    p.add_argument("--out-dir", type=Path, metavar="DIR",
                   help="headless batch: one CSV per input file of --source (a folder of videos and/or photos), "
                        "named after it; files whose CSV is complete are skipped, so a killed batch resumes")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="with --out-dir: N worker processes on this machine (default: 1)")
    p.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="with --out-dir: send the per-file tasks to this Dask distributed scheduler "
                        "(e.g. tcp://10.0.0.5:8786); its workers run from this project's folder")
    p.add_argument("--max-faces", type=int, default=PipelineConfig.max_faces, metavar="N",
                   help=f"faces tracked per frame; more found is reported (default: {PipelineConfig.max_faces})")
    p.add_argument("--detector", choices=DETECTOR_RANGES, default="auto",
                   help="BlazeFace model: short range (webcam), full range (photos, far faces); "
                        "auto picks short for cameras, full for files (default)")
    p.add_argument("--no-smoothing", action="store_true", help="start with the One Euro filter off")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for the model (default: 2)")
    p.add_argument("--runtime", choices=RUNTIMES, default=PipelineConfig.runtime,
                   help=f"inference back-end (default: {PipelineConfig.runtime}; see README, Performance)")
    p.add_argument("--loop", action="store_true", default=None, help="window: loop a video file or folder")
    p.add_argument("--every-frame", action="store_true",
                   help="window: play a video file as fast as it is processed, every frame (to record all of "
                        "it), instead of at its own speed dropping what the model cannot keep up with")
    p.add_argument("--interval", type=float, metavar="SECONDS",
                   help="window: move to the next photo of a folder every SECONDS (default: on request)")
    for name, what in (("fx", "focal length x"), ("fy", "focal length y"), ("cx", "principal point x"),
                       ("cy", "principal point y")):
        p.add_argument(f"--{name}", type=float, metavar="PX",
                       help=f"camera {what} in pixels, for head pose (default: OpenFace's guess from the frame size)")
    p.add_argument("--verbose", action="store_true",
                   help="show the native libraries' log lines (TFLite, absl, OpenCV, Qt)")
    return p


def make_config(args: argparse.Namespace, points: int, model: str | None = None) -> PipelineConfig:
    return PipelineConfig(points=points, model=model or args.model or "default", weights=args.weights,
                          detector_range=args.detector,
                          num_threads=args.threads, runtime=args.runtime, max_faces=args.max_faces,
                          smoothing=SmoothingConfig(enabled=not args.no_smoothing),
                          camera=CameraOverrides(args.fx, args.fy, args.cx, args.cy))


def error(text: str, code: int = 2) -> int:
    print(f"error: {text}", file=sys.stderr)
    return code


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_batch_cli(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.batch import plan, run_batch
    from core.sources import input_files

    source = Path(args.source).expanduser()
    if not source.exists():
        return error(f"no such file or folder: {source}")
    inputs = input_files(source)
    if not inputs:
        return error(f"{source} holds no videos or photos")
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return error(f"--out-dir {args.out_dir}: {exc.strerror or exc}")
    tasks, complete = plan(inputs, args.out_dir, redo=args.overwrite)
    config = make_config(args, args.points or 68)
    where = f"Dask scheduler {args.dask_scheduler}" if args.dask_scheduler else \
        f"{args.jobs} process{'es' if args.jobs > 1 else ''}"
    print(f"{len(inputs)} files: {complete} already done, {len(tasks)} to process on {where}", file=sys.stderr)
    frames = faces = 0
    failed = []
    bar = tqdm(total=len(tasks), unit="file", desc="batch")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        for report in run_batch(tasks, config, args.jobs, args.dask_scheduler):
            bar.update(1)
            frames, faces = frames + report.frames, faces + report.faces
            name = Path(report.source).name
            for note in report.notes:
                tqdm.write(f"{name}: {note}" if not note.startswith(name) else note, file=sys.stderr)
            if not report.ok:
                failed.append(report)
                tqdm.write(f"{name}: failed: {report.error}", file=sys.stderr)
            bar.set_postfix(frames=frames, failed=len(failed))
    except KeyboardInterrupt:
        bar.close()
        return error("interrupted; finished files keep their CSVs, run the same command again to resume", 130)
    except RuntimeError as exc:                  # the engine itself (e.g. no Dask scheduler there)
        bar.close()
        return error(str(exc))
    bar.close()
    done = len(tasks) - len(failed)
    print(f"{len(inputs)} files: {done} processed, {complete} already done, {len(failed)} failed; "
          f"{frames} frames, {faces} faces -> {args.out_dir}")
    for report in failed:
        print(f"  failed: {Path(report.source).name}: {report.error}", file=sys.stderr)
    return 1 if failed else 0


def run_folder_of_files_cli(args: argparse.Namespace, config: PipelineConfig, pipeline, recorder) -> int:
    """A folder holding videos (and maybe photos), without --out-dir: every file in turn, one CSV."""
    from tqdm import tqdm

    from core.headless import run_headless
    from core.sources import SourceError, input_files, open_source

    notes = lambda text: tqdm.write(text, file=sys.stderr)  # noqa: E731
    frames = faces = rows = 0
    for path in input_files(args.source):
        try:
            source = open_source(path)
        except SourceError as exc:
            notes(f"{path.name}: skipped: {exc}")
            continue
        summary = run_headless(source, pipeline, recorder, notify=notes, close_recorder=False)
        frames, faces, rows = frames + summary.frames, faces + summary.faces, rows + summary.rows
    if recorder:
        recorder.close()
    print(f"{frames} frames, {faces} faces" + (f", {rows} rows -> {args.csv}" if args.csv else ""))
    return 0


def run_headless_cli(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.headless import run_headless
    from core.images import ImageWriteError
    from core.model import WeightsError
    from core.pipeline import LandmarkPipeline
    from core.recorder import CsvRecorder, RecorderError
    from core.runtimes import RuntimeUnavailable
    from core.sources import SourceError, holds_videos, open_source

    config = make_config(args, args.points or 68)
    folder_of_videos = Path(args.source).is_dir() and holds_videos(Path(args.source))
    try:
        source = None if folder_of_videos else open_source(args.source)
    except SourceError as exc:
        return error(str(exc))
    if folder_of_videos:
        if args.save_overlay:
            return error("--save-overlay takes one video or a folder of photos; this folder holds videos")
        try:
            pipeline = LandmarkPipeline(config)
            recorder = CsvRecorder(args.csv, config.points, overwrite=args.overwrite) if args.csv else None
        except (WeightsError, RuntimeUnavailable, RecorderError) as exc:
            return error(str(exc))
        try:
            return run_folder_of_files_cli(args, config, pipeline, recorder)
        except KeyboardInterrupt:
            return error("interrupted" + (f"; {args.csv} keeps its whole rows" if args.csv else ""), 130)
        except (RecorderError, ImageWriteError) as exc:
            return error(str(exc), 1)
        finally:
            pipeline.close()
    if source.live and args.max_frames is None and args.csv is None:
        source.close()
        return error("headless from a camera needs --max-frames or --csv (else it never ends)")
    try:
        pipeline = LandmarkPipeline(config)
    except WeightsError as exc:
        source.close()
        return error(f"{exc}\nTrained weights belong in {default_weights_path(config.points, config.model)}; "
                     f"see weights/MODEL_CARD.md.")
    except RuntimeUnavailable as exc:
        source.close()
        return error(f"runtime {args.runtime}: {exc}")
    recorder = None
    try:
        if args.csv:
            # Opened only now: a run that fails to start has not touched an existing file.
            recorder = CsvRecorder(args.csv, config.points, overwrite=args.overwrite)
    except RecorderError as exc:
        pipeline.close()
        source.close()
        return error(str(exc))

    signal.signal(signal.SIGTERM, _raise_interrupt)      # like Ctrl-C: finish the CSV, then leave
    notes = lambda text: tqdm.write(text, file=sys.stderr)  # noqa: E731
    try:
        summary = run_headless(source, pipeline, recorder, args.max_frames, args.save_overlay, notify=notes)
    except KeyboardInterrupt:
        rows = f"; {args.csv} keeps its {recorder.rows} whole rows" if recorder else ""
        return error(f"interrupted{rows}", 130)
    except (RecorderError, ImageWriteError, SourceError) as exc:
        return error(str(exc), 1)
    finally:
        pipeline.close()
    print(f"{summary.frames} frames, {summary.faces} faces, {summary.fps:.1f} frames/s"
          + (f", {summary.rows} rows -> {args.csv}" if args.csv else "")
          + (f"; {summary.overlays} overlays in {args.save_overlay}" if args.save_overlay else ""))
    if summary.skipped:
        print(f"skipped unreadable files: {', '.join(summary.skipped)}", file=sys.stderr)
    return 0


def run_gui_cli(args: argparse.Namespace) -> int:
    from app.qt_platform import PlatformError, check_can_open_window, check_pyside_release, use_pyside_plugins

    use_pyside_plugins()
    try:
        check_can_open_window()
        check_pyside_release()
    except PlatformError as exc:
        return error(str(exc))
    from app.main_window import remembered_model, run_gui
    points, model = (args.points or 68, args.model or "default") if args.weights else \
        remembered_model(args.points, args.model)
    return run_gui(make_config(args, points, model), source=args.source, csv_path=args.csv, max_frames=args.max_frames,
                   overwrite=args.overwrite, loop=args.loop, interval=args.interval, verbose=args.verbose,
                   realtime=not args.every_frame)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name, value, low in (("--max-frames", args.max_frames, 1), ("--max-faces", args.max_faces, 1),
                             ("--threads", args.threads, 1), ("--interval", args.interval, 0)):
        if value is not None and value < low:
            return error(f"{name} must be at least {low}")
    for name, value in (("--fx", args.fx), ("--fy", args.fy)):
        if value is not None and not value > 0:
            return error(f"{name} must be a positive number of pixels")
    from core.native_logs import set_quiet
    set_quiet(not args.verbose)
    from core.outputs import OutputError, check_outputs
    if args.save_overlay is not None and not args.headless:
        return error("--save-overlay works with --headless only")
    try:
        check_outputs(args.source, args.csv, args.save_overlay, args.overwrite)
    except OutputError as exc:
        return error(str(exc))
    if args.jobs < 1:
        return error("--jobs must be at least 1")
    if (args.jobs > 1 or args.dask_scheduler) and args.out_dir is None:
        return error("--jobs and --dask-scheduler work with --out-dir (one CSV per input file)")
    if args.out_dir is not None:
        if args.csv or args.save_overlay or args.max_frames:
            return error("--out-dir writes one CSV per file; it does not combine with --csv, --save-overlay "
                         "or --max-frames")
        return run_batch_cli(args)
    if args.headless:
        return run_headless_cli(args)
    return run_gui_cli(args)


if __name__ == "__main__":
    sys.exit(main())
