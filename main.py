"""MobileFAN Live: real-time 68/98-point facial landmarks from a webcam or a file.

    python main.py                                   # GUI on camera 0
    python main.py --source clip.mp4 --csv out.csv   # GUI on a video, recording from the start
    python main.py --headless --source photos/ --csv out.csv --save-overlay overlays/

Exit status: 0 done; 1 a failure while running (a write failed, e.g. the disk
filled up; a camera stopped; a batch file failed); 2 bad input or options
(nothing was written); 130 interrupted (Ctrl-C); 143 stopped (SIGTERM).
"""
from __future__ import annotations

import argparse
import gc
import signal
import sys
import warnings
from pathlib import Path

from core.threads import default_model_threads, keep_blas_to_one_thread

keep_blas_to_one_thread()                      # before anything imports numpy (core/threads.py)

from core.config import (DETECTOR_RANGES, MODEL_SIZES, RUNTIMES, CameraOverrides, PipelineConfig,  # noqa: E402
                         SmoothingConfig, shipped_layouts)
from core.errors import EXIT_BAD_INPUT, EXIT_DONE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED  # noqa: E402
from core.read_ahead import DECODE_NICE, READ_AHEAD_FRAMES  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python main.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="0",
                   help="camera index (0, 1, ...), video file, image file, or folder of images (default: 0)")
    p.add_argument("--points", type=int, choices=(68, 98),
                   help="landmark layout (default: 68; the window remembers the last choice)")
    p.add_argument("--model", choices=MODEL_SIZES,
                   help="shipped model: default; small (faster per face, a little less accurate); accurate "
                        "(MediaPipe's face-mesh trunk fine-tuned: the most accurate, slower per face); "
                        "the window remembers the last choice")
    p.add_argument("--weights", type=Path, help="model checkpoint (default: the shipped one for --points and --model)")
    p.add_argument("--csv", type=Path, help="record landmark tracks to this CSV file from the start")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --csv file or existing overlays (default: refuse)")
    p.add_argument("--headless", action="store_true",
                   help="no window: process every frame of --source, write --csv, show a progress bar")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N processed frames")
    p.add_argument("--read-ahead", type=int, default=READ_AHEAD_FRAMES, metavar="N",
                   help="headless: decode a file's next N frames in a thread while the current one is processed "
                        f"(default: {READ_AHEAD_FRAMES}; 0: off)")
    p.add_argument("--decode-nice", type=int, default=DECODE_NICE, metavar="N",
                   help="headless, Linux: decode files read ahead N nice levels below the pipeline's threads, so "
                        "that decoding runs when they leave a core free (default: "
                        f"{DECODE_NICE}; 0: the same priority, e.g. when a busy program shares this terminal's session)")
    p.add_argument("--no-overlap", action="store_true",
                   help="headless: run each video frame whole before the next (default: the next frame's network "
                        "runs while the last is finished, same answers: core/frame_overlap.py)")
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
    p.add_argument("--no-eyelids", action="store_true",
                   help="leave the lids as the face network places them (no eyelid network: core/eyelids.py)")
    p.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None,
                   help="test-time mirroring: each face also run mirrored, the answers averaged (twice the network "
                        "per face, ~5%% less error; default: on for --model accurate, and on photos for every "
                        "model)")
    p.add_argument("--mesh-blend", action=argparse.BooleanOptionalAction, default=None,
                   help="blend each answer with MediaPipe's face mesh read on the same crop (~6%% less "
                        "error for the accurate model, a tenth less for the others, ~2-3 ms a face; default: on for "
                        "--model accurate, on photos for every model; on video every 5th frame of a face for the "
                        "default, every 30th for small)")
    p.add_argument("--threads", type=int, default=default_model_threads(),
                   help="CPU threads for the model (default: 2, or 1 on a machine with 2 cores; here %(default)s)")
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
                          smoothing=SmoothingConfig(enabled=not args.no_smoothing), eyelids=not args.no_eyelids,
                          mirror=args.mirror, mesh_blend=args.mesh_blend,
                          camera=CameraOverrides(args.fx, args.fy, args.cx, args.cy),
                          overlap_frames=not args.no_overlap)


def error(text: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"error: {text}", file=sys.stderr)
    return code


class Signals:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt as Python's Ctrl-C does (SIGTERM finalises the
    CSV too), and are also remembered: the exit code says which came (130 / 143), and an
    extension module that swallows the exception (C++ code that checks for signals and clears
    the error) cannot make a run ignore them, since the headless loop asks `requested` before
    every frame."""

    received: int | None = None

    @classmethod
    def install(cls) -> None:
        signal.signal(signal.SIGINT, cls._handle)
        signal.signal(signal.SIGTERM, cls._handle)

    @classmethod
    def _handle(cls, signum, frame) -> None:
        cls.received = signum
        raise KeyboardInterrupt

    @classmethod
    def requested(cls) -> bool:
        return cls.received is not None

    @classmethod
    def code(cls) -> int:
        return EXIT_TERMINATED if cls.received == signal.SIGTERM else EXIT_INTERRUPTED


def run_request(args: argparse.Namespace):
    from core.plan import RunRequest
    return RunRequest(args.source, csv=args.csv, out_dir=args.out_dir, overlay_dir=args.save_overlay,
                      overwrite=args.overwrite, max_frames=args.max_frames, jobs=args.jobs,
                      scheduler=args.dask_scheduler, read_ahead=args.read_ahead, decode_nice=args.decode_nice)


def run_batch_cli(plan, config: PipelineConfig) -> int:
    """One CSV per file, on processes or Dask; a failed file fails alone (exit 1 at the end)."""
    from tqdm import tqdm

    from core.batch import run_batch

    request = plan.request
    where = f"Dask scheduler {request.scheduler}" if request.scheduler else \
        f"{request.jobs} process{'es' if request.jobs > 1 else ''}"
    print(f"{len(plan.inputs)} files: {plan.complete} already done, {len(plan.tasks)} to process on {where}",
          file=sys.stderr)
    frames = faces = 0
    failed = []
    bar = tqdm(total=len(plan.tasks), unit="file", desc="batch")
    try:
        for report in run_batch(list(plan.tasks), config, request.jobs, request.scheduler):
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
        return error("interrupted; finished files keep their CSVs, run the same command again to resume",
                     Signals.code())
    bar.close()
    done = len(plan.tasks) - len(failed)
    print(f"{len(plan.inputs)} files: {done} processed, {plan.complete} already done, {len(failed)} failed; "
          f"{frames} frames, {faces} faces -> {request.out_dir}")
    for report in failed:
        print(f"  failed: {Path(report.source).name}: {report.error}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_DONE


def run_headless_cli(plan, config: PipelineConfig) -> int:
    """One source, or each file of a folder of videos in turn, into one CSV (and overlays)."""
    from tqdm import tqdm

    from core.headless import open_headless_source, open_run, run_headless, run_inputs

    request = plan.request
    # The source first, then the model, then the CSV: a run that fails to start writes nothing.
    source = open_headless_source(plan.inputs[0], request.read_ahead, request.decode_nice) \
        if plan.kind == "stream" else None
    try:
        pipeline, recorder = open_run(config, request.csv, request.overwrite)
    except BaseException:
        if source is not None:
            source.close()
        raise
    notes = lambda text: tqdm.write(text, file=sys.stderr)  # noqa: E731
    summary = None
    try:
        if source is not None:
            summary = run_headless(source, pipeline, recorder, request.max_frames, request.overlay_dir,
                                   notify=notes, should_stop=Signals.requested, read_ahead=request.read_ahead,
                                   decode_nice=request.decode_nice)
        else:
            summary = run_inputs(list(plan.inputs), pipeline, recorder, notify=notes,
                                 should_stop=Signals.requested, read_ahead=request.read_ahead,
                                 decode_nice=request.decode_nice)
    except KeyboardInterrupt:
        pass                                    # raised mid-frame; `summary.stopped`: between frames
    finally:
        pipeline.close()
    if summary is None or summary.stopped:
        rows = f"; {request.csv} keeps its {recorder.rows} whole rows" if recorder else ""
        return error(f"interrupted{rows}", Signals.code())
    print(f"{summary.frames} frames, {summary.faces} faces, {summary.fps:.1f} frames/s"
          + (f", {summary.rows} rows -> {request.csv}" if request.csv else "")
          + (f"; {summary.overlays} overlays in {request.overlay_dir}" if request.overlay_dir else ""))
    if summary.skipped:
        print(f"skipped unreadable files: {', '.join(summary.skipped)}", file=sys.stderr)
    return EXIT_DONE


def run_gui_cli(args: argparse.Namespace) -> int:
    from app.qt_platform import check_can_open_window, check_pyside_release, use_pyside_plugins

    use_pyside_plugins()
    check_can_open_window()                    # raises PlatformError: one line, exit 2
    check_pyside_release()
    from app.main_window import remembered_model, run_gui
    points, model = (args.points or 68, args.model or "default") if args.weights else \
        remembered_model(args.points, args.model)
    return run_gui(make_config(args, points, model), source=args.source, csv_path=args.csv, max_frames=args.max_frames,
                   overwrite=args.overwrite, loop=args.loop, interval=args.interval, verbose=args.verbose,
                   realtime=not args.every_frame)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name, value, low in (("--max-frames", args.max_frames, 1), ("--max-faces", args.max_faces, 1),
                             ("--threads", args.threads, 1), ("--interval", args.interval, 0),
                             ("--read-ahead", args.read_ahead, 0), ("--decode-nice", args.decode_nice, 0)):
        if value is not None and value < low:
            return error(f"{name} must be at least {low}")
    if args.decode_nice > 19:
        return error("--decode-nice must be at most 19 (the lowest priority)")
    if args.weights is None and args.points and args.model:
        layouts = shipped_layouts(args.model)
        if layouts and args.points not in layouts:
            return error(f"--model {args.model} comes in {' and '.join(map(str, layouts))} points only, "
                         f"not {args.points}: leave out --points or choose another --model")
    for name, value in (("--fx", args.fx), ("--fy", args.fy)):
        if value is not None and not value > 0:
            return error(f"{name} must be a positive number of pixels")
    from core.native_logs import set_quiet
    set_quiet(not args.verbose)
    # A library warning (e.g. a missing int8 export) is one line of ours, not Python's two with source code.
    warnings.formatwarning = lambda message, *_args, **_kw: f"warning: {message}\n"
    from core.errors import MobileFANError
    from core.outputs import check_outputs
    from core.plan import check_options, plan_run

    headless = args.headless or args.out_dir is not None
    # SIGTERM stops a headless run like Ctrl-C does: the CSV is finalised, its rows whole.
    Signals.install()
    try:
        request = run_request(args)
        if not headless:
            check_options(request, headless=False)
            check_outputs(request.source, request.csv, None, request.overwrite)
            return run_gui_cli(args)
        plan = plan_run(request)
        config = make_config(args, args.points or 68)
        return run_batch_cli(plan, config) if plan.kind == "batch" else run_headless_cli(plan, config)
    except MobileFANError as exc:
        return error(str(exc), exc.exit_code)
    except KeyboardInterrupt:                  # before the run had started: nothing was written
        return error("interrupted", Signals.code())


if __name__ == "__main__":
    code = main()
    # Everything is written and closed by now. The interpreter's last garbage collections would sweep
    # every object the libraries made (torch's above all): ~1 s after Ctrl-C, seconds on a busy machine,
    # for nothing. Frozen objects are left to the operating system; atexit handlers still run.
    gc.freeze()
    sys.exit(code)
