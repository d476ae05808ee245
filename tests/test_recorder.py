import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import errno

import numpy as np
import pytest

from core.recorder import CsvRecorder, RecorderError, csv_header
from core.results import FaceResult

ROOT = Path(__file__).resolve().parent.parent


def face(face_id, n=68, offset=0.0):
    pts = np.stack([np.arange(n) + offset, np.arange(n) * 2.0], 1).astype(np.float32)
    return FaceResult(face_id, (0, 0, 1, 1), pts, pts, 0.87, True)


def test_schema_matches_openface_names():
    header = csv_header(68)
    # OpenFace 2.0's names, in its order: ids, then pose, then the 2D landmarks.
    assert header[:11] == ["frame", "face_id", "timestamp", "confidence", "success",
                           "pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
    assert header[11] == "x_0" and header[11 + 67] == "x_67" and header[11 + 68] == "y_0"
    assert header[-5:] == ["ear_left", "ear_right", "blink", "mouth_open", "source"]
    assert len(header) == 11 + 136 + 5


def test_pose_and_measures_are_written_in_openface_units(tmp_path):
    from core.results import HeadPose
    f = face(0)
    f.pose = HeadPose(12.5, -3.25, 650.0, 0.1, -0.2, 0.05)
    f.ear_left, f.ear_right, f.blink, f.mouth_open = 0.31, 0.29, True, 0.12
    path = tmp_path / "pose.csv"
    with CsvRecorder(path, 68) as rec:
        rec.write_frame(0, 0.0, [f], "x")
    row = next(csv.DictReader(path.open()))
    assert [float(row[k]) for k in ("pose_Tx", "pose_Ty", "pose_Tz")] == [12.5, -3.2, 650.0]
    assert [float(row[k]) for k in ("pose_Rx", "pose_Ry", "pose_Rz")] == [0.1, -0.2, 0.05]
    assert (row["ear_left"], row["ear_right"], row["blink"], row["mouth_open"]) == ("0.310", "0.290", "1", "0.120")


def _reference_row(frame, timestamp, f, source):
    """A row as the schema (README, CSV schema) defines each cell, through the csv module."""
    p = f.pose
    pose = ["nan"] * 6 if p is None else [f"{p.tx:.1f}", f"{p.ty:.1f}", f"{p.tz:.1f}",
                                          f"{p.rx:.4f}", f"{p.ry:.4f}", f"{p.rz:.4f}"]
    return ([frame, f.face_id, f"{timestamp:.4f}", f"{f.confidence:.3f}", int(f.success)] + pose
            + [f"{v:.2f}" for v in f.points[:, 0].tolist()] + [f"{v:.2f}" for v in f.points[:, 1].tolist()]
            + [f"{f.ear_left:.3f}", f"{f.ear_right:.3f}", int(f.blink), f"{f.mouth_open:.3f}", source])


def test_rows_are_the_schemas_cells_whatever_the_values_and_the_source_name(tmp_path):
    """The one-format row writer (core/recorder.row_format) against each cell formatted on its own and
    quoted by the csv module: NaN and infinite values, negative zero, float32 and float64, halves
    that round, huge coordinates, no pose; source names with commas, quotes, line breaks, non-ASCII."""
    import io
    from core.results import HeadPose
    rng = np.random.default_rng(3)
    sources = ["talk.mp4", "a,b.mp4", 'say "hi".mp4', "line\nbreak.mp4", "crlf\r.mp4", "été 😀.png", ""]
    faces = []
    for i in range(40):
        pts = (rng.normal(0, 400, (98 if i % 5 == 0 else 68, 2)) * (10.0 ** rng.integers(-3, 4)))
        pts = pts.astype(np.float32 if i % 2 else np.float64)
        pts[0] = [np.nan, -0.0]
        pts[1] = [np.inf, -np.inf]
        pts[2] = [0.125, 2.675]                           # halves and a value float rounds down
        f = FaceResult(i, (0, 0, 1, 1), pts, pts, np.float32(rng.random()), bool(i % 3))
        if i % 4:
            f.pose = HeadPose(*rng.normal(0, 300, 3), *rng.normal(0, 1, 3))
        if i % 6:
            f.ear_left, f.ear_right, f.mouth_open = (float(v) for v in rng.random(3))
            f.blink = bool(i % 2)
        faces.append(f)
    for n in (68, 98):
        path, expected = tmp_path / f"rows{n}.csv", io.StringIO()
        writer = csv.writer(expected, lineterminator="\n")
        writer.writerow(csv_header(n))
        with CsvRecorder(path, n) as rec:
            for k, f in enumerate(x for x in faces if len(x.points) == n):
                source, t = sources[k % len(sources)], float(rng.random() * 1e4)
                rec.write_frame(k, t, [f, f], source)
                writer.writerows([_reference_row(k, t, f, source)] * 2)
        assert path.read_bytes() == expected.getvalue().encode("utf-8")


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
    with pytest.raises(RecorderError, match="cannot write CSV"):
        CsvRecorder(blocker / "sub" / "out.csv", 68)


def test_an_existing_file_is_never_replaced_unless_asked(tmp_path):
    path = tmp_path / "take.csv"
    path.write_text("precious data\n")
    with pytest.raises(RecorderError, match="already exists"):
        CsvRecorder(path, 68)
    assert path.read_text() == "precious data\n"
    with CsvRecorder(path, 68, overwrite=True) as rec:
        rec.write_frame(0, 0.0, [face(0)], "x")
    assert path.read_text().startswith("frame,face_id")


def test_a_second_writer_of_the_same_file_is_refused(tmp_path):
    path = tmp_path / "shared.csv"
    first = CsvRecorder(path, 68)
    first.write_frame(0, 0.0, [face(0)], "x")
    with pytest.raises(RecorderError, match="another program"):
        CsvRecorder(path, 98, overwrite=True)
    first.write_frame(1, 0.1, [face(0)], "x")
    first.close()
    rows = list(csv.DictReader(path.open()))
    assert [r["frame"] for r in rows] == ["0", "1"]                   # untouched by the refused writer
    CsvRecorder(path, 68, overwrite=True).close()                     # free again once closed


def test_a_failed_write_leaves_only_whole_rows(tmp_path, monkeypatch):
    """A disk that fills mid-row: the half row is cut away and the error says what was kept."""
    path = tmp_path / "full.csv"
    rec = CsvRecorder(path, 68)
    rec.write_frame(0, 0.0, [face(0), face(1)], "x")
    real_write = os.write
    calls = []

    def filling_disk(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data)[:100])                  # a short write: 100 bytes got through
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", filling_disk)
    with pytest.raises(RecorderError, match="No space left.*2 whole rows"):
        rec.write_frame(1, 0.1, [face(0)], "x")
    monkeypatch.setattr(os, "write", real_write)
    rec.close()
    assert rec.closed
    lines = path.read_text().split("\n")
    assert lines[-1] == "" and len(lines) == 1 + 2 + 1               # header, 2 rows, final newline
    assert all(len(r) == len(csv_header(68)) for r in csv.reader(lines[:-1]))


def test_unwritable_device_fails_at_the_header(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with pytest.raises(RecorderError, match="No space left"):
        CsvRecorder("/dev/full", 68, overwrite=True)


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
