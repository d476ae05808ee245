"""Batches: one CSV per file, on processes or a Dask cluster, resumable, a bad file fails alone."""
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.batch import PART_SUFFIX, Task, plan_tasks, process_file, run_batch
from core.config import PipelineConfig
from core.recorder import csv_header
from core.synthetic_video import astronaut_rgb, moving_face_frames, write_video

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Three short face videos of different lengths."""
    folder = tmp_path_factory.mktemp("talks")
    for name, frames in (("a.mp4", 12), ("b.mp4", 15), ("c.avi", 10)):
        write_video(folder / name, moving_face_frames(astronaut_rgb(), frames, (320, 240)), 30,
                    "MJPG" if name.endswith(".avi") else "mp4v")
    return folder


def rows(path):
    return list(csv.DictReader(Path(path).open()))


def main_py(*args, **kw):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, **kw)


def assert_complete(path, frames):
    """Every frame has its row (the shipped model tracks the face throughout) and the file ends whole."""
    assert sorted({int(r["frame"]) for r in rows(path)}) == list(range(frames))
    assert Path(path).read_text().endswith("\n")


def test_a_folder_of_three_videos_on_two_processes(tmp_path, videos):
    out = tmp_path / "out"
    result = main_py("--headless", "--source", videos, "--out-dir", out, "--jobs", 2)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv", "c.csv"]
    for name, frames in (("a", 12), ("b", 15), ("c", 10)):
        assert_complete(out / f"{name}.csv", frames)
        assert {r["source"] for r in rows(out / f"{name}.csv")} <= {f"{name}.mp4", f"{name}.avi"}
    assert "3 files: 3 processed, 0 already done, 0 failed; 37 frames" in result.stdout
    for noise in ("W0000", "XNNPACK", "absl::InitializeLog"):     # the workers keep the console as quiet
        assert noise not in result.stderr                          # as one process does (test_cli)


def test_a_bad_file_fails_alone_with_its_reason(tmp_path, videos, tiny_weights):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        (folder / name).write_bytes((videos / name).read_bytes())
    (folder / "broken.mp4").write_bytes(b"not a video at all" * 100)
    out = tmp_path / "out"
    result = main_py("--headless", "--source", folder, "--out-dir", out, "--jobs", 2, "--weights", tiny_weights,
                     "--runtime", "onnxruntime")
    assert result.returncode == 1                                   # a failure is not hidden from scripts
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv"]
    assert "broken.mp4: failed: cannot read video" in result.stderr
    assert "1 failed" in result.stdout and "Traceback" not in result.stderr


def test_a_killed_batch_resumes_without_redoing_finished_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, frames in enumerate((20, 300, 300)):
        write_video(folder / f"v{i}.mp4", moving_face_frames(astronaut_rgb(), frames, (320, 240)), 30)
    out = tmp_path / "out"
    args = [sys.executable, str(ROOT / "main.py"), "--headless", "--source", str(folder), "--out-dir", str(out)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (out / "v0.csv").exists():
        time.sleep(0.05)
    while time.monotonic() < deadline and not (out / ("v1.csv" + PART_SUFFIX)).exists():
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert (out / "v0.csv").exists() and not (out / "v1.csv").exists()     # v1 was cut off half way
    first = (out / "v0.csv").stat()
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1 already done, 2 to process" in result.stderr
    assert (out / "v0.csv").stat().st_mtime_ns == first.st_mtime_ns       # not redone
    assert_complete(out / "v1.csv", 300)
    assert_complete(out / "v2.csv", 300)
    assert not list(out.glob("*" + PART_SUFFIX))


def test_the_same_tasks_on_a_dask_cluster(tmp_path, videos):
    from distributed import LocalCluster
    inputs = sorted(videos.iterdir())
    tasks, done = plan_tasks(inputs, tmp_path)
    assert done == 0 and len(tasks) == 3
    config = PipelineConfig()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        reports = list(run_batch(tasks, config, scheduler=cluster.scheduler_address))
    assert sorted(Path(r.source).name for r in reports) == ["a.mp4", "b.mp4", "c.avi"]
    assert all(r.ok for r in reports), [r.error for r in reports]
    assert sum(r.frames for r in reports) == 37
    for name, frames in (("a", 12), ("b", 15), ("c", 10)):
        assert_complete(tmp_path / f"{name}.csv", frames)


def test_no_dask_scheduler_is_one_clear_line(tmp_path, videos, tiny_weights):
    result = main_py("--headless", "--source", videos, "--out-dir", tmp_path, "--dask-scheduler",
                     "tcp://127.0.0.1:9", "--weights", tiny_weights)
    assert result.returncode == 2 and "cannot reach the Dask scheduler" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_names_csvs_after_their_inputs_and_skips_complete_ones(tmp_path):
    inputs = [tmp_path / n for n in ("talk.mp4", "talk.avi", "photo.jpg")]
    (tmp_path / "photo.csv").write_text("done\n")
    (tmp_path / "talk.mp4.csv.part").write_text("half\n")                 # a killed run's leftover
    tasks, done = plan_tasks(inputs, tmp_path)
    assert done == 1
    assert [Path(t.csv).name for t in tasks] == ["talk.mp4.csv", "talk.avi.csv"]
    assert len(plan_tasks(inputs, tmp_path, redo=True)[0]) == 3


def test_the_read_ahead_and_decoder_priority_asked_for_travel_with_every_batch_task(tmp_path, videos):
    """--read-ahead and --decode-nice reach the workers (a task is all they get), for a batch as for one file."""
    from core.plan import RunRequest, plan_run
    for depth, nice in ((0, 0), (7, 12)):
        plan = plan_run(RunRequest(str(videos), out_dir=tmp_path / f"out{depth}", read_ahead=depth, decode_nice=nice))
        assert plan.kind == "batch" and len(plan.tasks) == 3
        assert {task.read_ahead for task in plan.tasks} == {depth}
        assert {task.decode_nice for task in plan.tasks} == {nice}


def test_process_file_writes_the_csv_only_when_complete(tmp_path, face_video, tiny_weights):
    report = process_file(Task(str(face_video), str(tmp_path / "face.csv")),
                          PipelineConfig(weights=tiny_weights, runtime="onnxruntime"))
    assert report.ok and report.frames == 90
    header = next(csv.reader((tmp_path / "face.csv").open()))
    assert header == csv_header(68)
    missing = process_file(Task(str(tmp_path / "gone.mp4"), str(tmp_path / "gone.csv")), PipelineConfig())
    assert not missing.ok and "no such file" in missing.error and not (tmp_path / "gone.csv").exists()


def test_a_folder_of_videos_into_one_csv(tmp_path, videos):
    out = tmp_path / "all.csv"
    result = main_py("--headless", "--source", videos, "--csv", out)
    assert result.returncode == 0, result.stderr[-2000:]
    by_source = {}
    for r in rows(out):
        by_source.setdefault(r["source"], set()).add(int(r["frame"]))
    assert by_source == {"a.mp4": set(range(12)), "b.mp4": set(range(15)), "c.avi": set(range(10))}


def test_batch_options_need_out_dir(videos):
    result = main_py("--headless", "--source", videos, "--jobs", 2)
    assert result.returncode == 2 and "--out-dir" in result.stderr


def test_an_out_dir_that_is_a_file_is_refused_by_name(tmp_path, videos):
    """It said only '--out-dir notes.txt: File exists', the OS's words for a folder it could not make."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    result = main_py("--headless", "--source", videos, "--out-dir", notes)
    assert result.returncode == 2
    assert f"--out-dir {notes} is a file; name a folder" in result.stderr
    assert notes.read_text() == "mine\n"
