"""From what was asked to the work to do: inputs -> plan -> run, decided here once.

A headless request becomes one of three plans:

- `stream`: one source (a camera, a video, a photo or a folder of photos) into
  one CSV;
- `files`: a folder that holds videos, each file in turn into one CSV (the
  `source` column tells them apart);
- `batch`: one CSV per file of a folder (`--out-dir`), resumable, on worker
  processes or a Dask cluster (core/batch.py).

Every check that needs no model happens here, before anything is opened or
written: option combinations, the outputs (core/outputs.py) and the
inputs. A bad request raises `PlanError` (exit 2, nothing written).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.batch import Task, plan_tasks
from core.errors import MobileFANError
from core.outputs import check_outputs
from core.read_ahead import DECODE_NICE, READ_AHEAD_FRAMES
from core.sources import holds_videos, input_files, is_camera_spec


class PlanError(MobileFANError):
    """Options that do not go together, or inputs that are not there."""


@dataclass(frozen=True)
class RunRequest:
    """A headless run as the user asked for it (main.py's options, without the model's)."""

    source: str
    csv: Path | None = None
    out_dir: Path | None = None
    overlay_dir: Path | None = None
    overwrite: bool = False
    max_frames: int | None = None
    jobs: int = 1
    scheduler: str | None = None
    read_ahead: int = READ_AHEAD_FRAMES   # a file's frames decoded ahead in a thread (0: none)
    decode_nice: int = DECODE_NICE        # that thread's nice value above the pipeline's (0: the same)


@dataclass(frozen=True)
class RunPlan:
    kind: Literal["stream", "files", "batch"]
    request: RunRequest
    inputs: tuple[str, ...]              # stream: the one source; files and batch: every file
    tasks: tuple[Task, ...] = ()         # batch: the files still to do
    complete: int = 0                    # batch: files whose CSV an earlier run completed


def check_options(request: RunRequest, headless: bool = True) -> None:
    """Option combinations that make no sense, whatever the inputs."""
    if request.jobs < 1:
        raise PlanError("--jobs must be at least 1")
    if request.overlay_dir is not None and not headless:
        raise PlanError("--save-overlay works with --headless only")
    if (request.jobs > 1 or request.scheduler) and request.out_dir is None:
        raise PlanError("--jobs and --dask-scheduler work with --out-dir (one CSV per input file)")
    if request.out_dir is not None and (request.csv or request.overlay_dir or request.max_frames):
        raise PlanError("--out-dir writes one CSV per file; it does not combine with --csv, --save-overlay "
                        "or --max-frames")


def plan_run(request: RunRequest) -> RunPlan:
    """The plan for a headless request; raises PlanError (or OutputError) before anything is written."""
    check_options(request)
    check_outputs(request.source, request.csv, request.overlay_dir, request.overwrite)
    if request.out_dir is not None:
        return _plan_batch(request)
    if is_camera_spec(request.source):
        if request.max_frames is None and request.csv is None:
            raise PlanError("headless from a camera needs --max-frames or --csv (else it never ends)")
        return RunPlan("stream", request, (request.source,))
    path = Path(request.source).expanduser()
    if path.is_dir() and holds_videos(path):
        if request.overlay_dir is not None:
            raise PlanError("--save-overlay takes one video or a folder of photos; this folder holds videos")
        return RunPlan("files", request, tuple(str(p) for p in input_files(path)))
    return RunPlan("stream", request, (request.source,))


def _plan_batch(request: RunRequest) -> RunPlan:
    source = Path(request.source).expanduser()
    if not source.exists():
        raise PlanError(f"no such file or folder: {source}")
    inputs = input_files(source)
    if not inputs:
        raise PlanError(f"{source} holds no videos or photos")
    if request.out_dir.exists() and not request.out_dir.is_dir():
        raise PlanError(f"--out-dir {request.out_dir} is a file; name a folder")
    try:
        request.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlanError(f"--out-dir {request.out_dir}: {exc.strerror or exc}") from None
    tasks, complete = plan_tasks(inputs, request.out_dir, redo=request.overwrite, read_ahead=request.read_ahead,
                                 decode_nice=request.decode_nice)
    return RunPlan("batch", request, tuple(str(p) for p in inputs), tuple(tasks), complete)
