"""The real window, offscreen: it starts, shows frames, records, and closes cleanly."""
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from core.config import PipelineConfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def qapp():
    return QApplication.instance() or QApplication([])


def wait_for(qapp, condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        qapp.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_window_processes_video_records_and_closes(qapp, tmp_path, face_video, tiny_weights):
    window = MainWindow(PipelineConfig(weights=tiny_weights, detector_range="full", min_track_score=0.0))
    window.show()
    window.start(str(face_video))
    assert wait_for(qapp, lambda: window.frames_shown >= 5), "no frames reached the window"
    out = tmp_path / "gui.csv"
    window.start_recording(out)
    assert wait_for(qapp, lambda: window.last_stats and (window.last_stats.recording_rows or 0) >= 5)
    assert "recording" in window.rows_label.text()
    assert window.plot.points() > 0 and "fps" in window.stats_label.text()
    start = time.monotonic()
    window.close()
    assert time.monotonic() - start < 1.5
    assert not window.worker.isRunning()
    rows = list(csv.DictReader(out.open()))
    assert len(rows) >= 5 and all(r["source"] == "face.mp4" for r in rows)


def test_missing_camera_shows_a_message_and_a_file_still_opens(qapp, face_video, tiny_weights):
    window = MainWindow(PipelineConfig(weights=tiny_weights))
    window.show()
    window.start("9")
    assert wait_for(qapp, lambda: "no camera at index 9" in window.banner.text())
    window.open_source(str(face_video))
    assert wait_for(qapp, lambda: window.frames_shown >= 3)
    window.close()
    assert not window.worker.isRunning()


def test_without_weights_the_window_starts_and_says_so(qapp, tmp_path, face_video):
    window = MainWindow(PipelineConfig(weights=tmp_path / "absent.pt"))
    window.show()
    window.start(str(face_video))
    assert wait_for(qapp, lambda: "No trained weights" in window.banner.text())
    assert wait_for(qapp, lambda: window.frames_shown >= 3)      # video still plays
    window.close()


def test_main_py_gui_run_with_max_frames(tmp_path, face_video, tiny_weights):
    out = tmp_path / "cli_gui.csv"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--source", str(face_video), "--weights", str(tiny_weights),
         "--max-frames", "30", "--csv", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = list(csv.DictReader(out.open()))
    assert 1 <= len(rows) <= 31
    assert len({r["frame"] for r in rows}) == len(rows)
