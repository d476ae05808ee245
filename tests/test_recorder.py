import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from core.pipeline import FaceResult
from core.recorder import CsvRecorder, csv_header

ROOT = Path(__file__).resolve().parent.parent


def face(face_id, n=68, offset=0.0):
    pts = np.stack([np.arange(n) + offset, np.arange(n) * 2.0], 1).astype(np.float32)
    return FaceResult(face_id, (0, 0, 1, 1), pts, pts, 0.87, True)


def test_schema_matches_openface_names():
    header = csv_header(68)
    assert header[:5] == ["frame", "face_id", "timestamp", "confidence", "success"]
    assert header[5] == "x_0" and header[5 + 67] == "x_67" and header[5 + 68] == "y_0"
    assert header[-1] == "source" and len(header) == 5 + 136 + 1


def test_rows_per_face_per_frame(tmp_path):
    path = tmp_path / "r.csv"
    with CsvRecorder(path, 68) as rec:
        rec.write_frame(0, 0.0, [face(0), face(1, offset=5)], "camera:0")
        rec.write_frame(1, 0.033, [face(0)], "camera:0")
        assert rec.rows == 3
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 3
    assert rows[1]["face_id"] == "1" and float(rows[1]["x_0"]) == 5.0 and float(rows[1]["y_3"]) == 6.0
    assert rows[2]["frame"] == "1" and rows[2]["source"] == "camera:0" and rows[2]["success"] == "1"


def test_header_exists_before_any_face(tmp_path):
    path = tmp_path / "empty.csv"
    rec = CsvRecorder(path, 98)
    assert path.read_text().strip().split(",") == csv_header(98)    # readable while still open
    rec.close()


def test_unwritable_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    try:
        CsvRecorder(blocker / "sub" / "out.csv", 68)
    except OSError as exc:
        assert "cannot write CSV" in str(exc)
    else:
        raise AssertionError("expected an error")


def test_killed_process_leaves_a_readable_csv(tmp_path, face_video, tiny_weights):
    """SIGKILL mid-run: every complete row survives, at most the last frame is lost."""
    out = tmp_path / "killed.csv"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--headless", "--source", str(face_video),
         "--weights", str(tiny_weights), "--csv", str(out)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if out.exists() and out.read_text().count("\n") >= 6:
                break
            assert proc.poll() is None, "run ended before it could be killed"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    lines = out.read_text().split("\n")
    header = lines[0].split(",")
    assert header == csv_header(68)
    complete = [ln for ln in lines[1:-1]]                 # everything before the last newline
    assert len(complete) >= 5
    for row in csv.reader(complete):
        assert len(row) == len(header)
        assert row[-1] == "face.mp4"
