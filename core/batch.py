"""Batches of files, unattended: one CSV per input, resumable, on N processes or a Dask cluster.

    python main.py --headless --source talks/ --out-dir csv/ --jobs 4
    python main.py --headless --source talks/ --out-dir csv/ --dask-scheduler tcp://host:8786

Each input file is one task: `process_file` builds (once per worker process)
the same `LandmarkPipeline` the app runs, processes every frame, and writes
`OUT/<stem>.csv`. It writes `<stem>.csv.part` and renames it when the file is
done, so a CSV under its final name is always complete: a batch killed half
way and started again skips the finished files and redoes the rest. A bad
file fails its own task with its reason; the batch goes on.

On one machine the tasks run on a `concurrent.futures` process pool; for
more machines, on an existing Dask distributed cluster (its workers must be
able to import this project: start them from its folder, with its
requirements installed). Both are existing engines, nothing home-made.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Iterator

from core.config import PipelineConfig
from core.errors import MobileFANError
from core.native_logs import is_quiet, set_quiet
from core.read_ahead import DECODE_NICE, READ_AHEAD_FRAMES

PART_SUFFIX = ".part"


class BatchEngineError(MobileFANError):
    """The engine itself cannot run tasks (no Dask scheduler at that address, dask not installed)."""


@dataclass(frozen=True)
class Task:
    source: str              # the input file
    csv: str                 # its CSV, final name
    read_ahead: int = READ_AHEAD_FRAMES   # its next frames decoded in a thread (core/read_ahead.py)
    decode_nice: int = DECODE_NICE        # that thread's nice value above the pipeline's


@dataclass
class FileReport:
    source: str
    csv: str
    frames: int = 0
    faces: int = 0
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BatchSummary:
    files: int = 0               # inputs in the folder
    skipped: int = 0             # already complete from an earlier run
    done: int = 0
    failed: list[FileReport] = field(default_factory=list)
    frames: int = 0
    faces: int = 0
    seconds: float = 0.0


def plan_tasks(inputs: list[Path], out_dir: Path, redo: bool = False,
               read_ahead: int = READ_AHEAD_FRAMES, decode_nice: int = DECODE_NICE) -> tuple[list[Task], int]:
    """(tasks still to do, how many are complete already). One CSV per input, named after
    its stem; inputs whose stems collide (a.mp4, a.avi) keep their whole name (a.mp4.csv)."""
    stems: dict[str, int] = {}
    for p in inputs:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    tasks, complete = [], 0
    for p in inputs:
        csv = out_dir / (f"{p.stem}.csv" if stems[p.stem] == 1 else f"{p.name}.csv")
        if csv.exists() and not redo:
            complete += 1
            continue
        tasks.append(Task(str(p), str(csv), read_ahead, decode_nice))
    return tasks, complete


# ---- worker side ---------------------------------------------------------------------------------
_PIPELINES: dict[str, object] = {}


def _pipeline(config: PipelineConfig):
    """One pipeline per worker process and configuration: loading a model takes a second."""
    from core.pipeline import LandmarkPipeline
    key = repr(config)
    if key not in _PIPELINES:
        _PIPELINES[key] = LandmarkPipeline(config)
    return _PIPELINES[key]


def process_file(task: Task, config: PipelineConfig) -> FileReport:
    """Every frame of one file to its CSV. Never raises: a failure is the report's `error`."""
    from core.headless import open_headless_source, open_run, run_headless

    report = FileReport(task.source, task.csv)
    final = Path(task.csv)
    part = final.with_name(final.name + PART_SUFFIX)
    start = time.perf_counter()
    source = None
    try:
        source = open_headless_source(task.source, task.read_ahead, task.decode_nice)
        # overwrite: a .part file is our own leftover from a killed run
        pipeline, recorder = open_run(config, part, overwrite=True, pipeline=_pipeline(config))
        summary = run_headless(source, pipeline, recorder, progress=False, notify=report.notes.append,
                               read_ahead=task.read_ahead, decode_nice=task.decode_nice)
        os.replace(part, final)                                          # complete: only now under its name
        report.frames, report.faces, report.rows = summary.frames, summary.faces, summary.rows
        report.notes += [f"unreadable: {name}" for name in summary.skipped]
    except (MobileFANError, OSError) as exc:
        report.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever one file does, the batch goes on
        report.error = f"{type(exc).__name__}: {exc}"
    if report.error is not None:
        if source is not None:
            source.close()
        try:
            part.unlink(missing_ok=True)
        except OSError:
            pass
    report.seconds = time.perf_counter() - start
    return report


# ---- driver side ----------------------------------------------------------------------------------
def _local(tasks: list[Task], config: PipelineConfig, jobs: int) -> Iterator[FileReport]:
    if jobs <= 1:
        for task in tasks:
            yield process_file(task, config)
        return
    # spawn, not fork: the parent may hold threads (ONNX Runtime, MediaPipe) that a fork would break.
    # A spawned worker starts with the library's default (hide nothing) but writes to this console,
    # so it is told whether this process keeps the native libraries quiet (core/native_logs.py).
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                             initializer=set_quiet, initargs=(is_quiet(),)) as pool:
        futures: list[Future] = [pool.submit(process_file, task, config) for task in tasks]
        for future in as_completed(futures):
            yield future.result()


def _dask(tasks: list[Task], config: PipelineConfig, scheduler: str) -> Iterator[FileReport]:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError as exc:
        raise BatchEngineError("--dask-scheduler needs dask's distributed package: "
                               "python -m pip install -r requirements.txt") from exc
    try:
        client = Client(scheduler, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise BatchEngineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    try:
        futures = [client.submit(process_file, task, config, key=f"mobilefan-{Path(task.source).name}-{i}",
                                 pure=False) for i, task in enumerate(tasks)]
        for future in dask_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # noqa: BLE001 - a worker lost mid-task fails that file, not the batch
                index = futures.index(future)
                yield FileReport(tasks[index].source, tasks[index].csv, error=f"worker failed: {exc}")
    finally:
        client.close()


def run_batch(tasks: list[Task], config: PipelineConfig, jobs: int = 1, scheduler: str | None = None,
              on_report: Callable[[FileReport], None] | None = None) -> Iterable[FileReport]:
    """Run the tasks; yields each file's report as it finishes (in completion order)."""
    if jobs > 1 or scheduler:
        # Many workers share the cores: one model thread each unless asked otherwise.
        config = replace(config, num_threads=max(1, config.num_threads // max(jobs, 1)))
    reports = _dask(tasks, config, scheduler) if scheduler else _local(tasks, config, jobs)
    for report in reports:
        if on_report is not None:
            on_report(report)
        yield report
