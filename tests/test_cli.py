import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_options():
    out = run("--help")
    assert out.returncode == 0
    for option in ("--source", "--points", "--csv", "--headless", "--max-frames", "--save-overlay"):
        assert option in out.stdout


def test_headless_folder_of_photos(tmp_path, photo_dir, tiny_weights):
    out_csv = tmp_path / "photos.csv"
    overlays = tmp_path / "overlays"
    result = run("--headless", "--source", photo_dir, "--weights", tiny_weights, "--csv", out_csv,
                 "--save-overlay", overlays)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out_csv.open()))
    by_file = {}
    for row in rows:
        by_file[row["source"]] = by_file.get(row["source"], 0) + 1
        assert "x_67" in row and "y_67" in row
    assert by_file == {"astronaut.jpg": 1, "pair.png": 2}      # coffee has no face
    assert "broken.jpg" in result.stderr                        # said, not crashed
    assert sorted(p.name for p in overlays.iterdir()) == ["astronaut.jpg", "coffee.jpg", "pair.jpg"]


def test_headless_video_with_max_frames(tmp_path, face_video, tiny_weights):
    out_csv = tmp_path / "v.csv"
    result = run("--headless", "--source", face_video, "--weights", tiny_weights, "--csv", out_csv,
                 "--max-frames", 25)
    assert result.returncode == 0, result.stderr
    frames = {row["frame"] for row in csv.DictReader(out_csv.open())}
    assert frames == {str(i) for i in range(25)}


def test_missing_weights_exit_cleanly(tmp_path, face_video):
    result = run("--headless", "--source", face_video, "--weights", tmp_path / "none.pt")
    assert result.returncode == 2
    assert "none.pt" in result.stderr and "Traceback" not in result.stderr


def test_corrupt_weights_exit_cleanly(tmp_path, face_video):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    result = run("--headless", "--source", face_video, "--weights", bad)
    assert result.returncode == 2
    assert "bad.pt" in result.stderr and "Traceback" not in result.stderr


def test_missing_source_exits_cleanly(tmp_path, tiny_weights):
    result = run("--headless", "--source", tmp_path / "nope.mp4", "--weights", tiny_weights)
    assert result.returncode == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


def test_unreadable_video_exits_cleanly(tmp_path, tiny_weights):
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"0" * 1000)
    result = run("--headless", "--source", bad, "--weights", tiny_weights)
    assert result.returncode == 2
    assert "cannot read video" in result.stderr and "Traceback" not in result.stderr
