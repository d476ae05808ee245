import csv
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.images import write_image
from core.recorder import csv_header

ROOT = Path(__file__).resolve().parent.parent


def run(*args, timeout=300, **kw):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, **kw)


def test_help_lists_the_options():
    out = run("--help")
    assert out.returncode == 0
    for option in ("--source", "--points", "--csv", "--headless", "--max-frames", "--save-overlay", "--overwrite",
                   "--max-faces", "--loop", "--interval", "--verbose", "--read-ahead"):
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
    assert "coffee.ppm: no face found" in result.stderr         # a per-file line for a photo without a face
    # Overlay names keep the photo's extension: a.jpg and a.png can never collide.
    assert sorted(p.name for p in overlays.iterdir()) == ["astronaut.jpg.jpg", "coffee.ppm.jpg", "pair.png.jpg"]


def test_photos_with_the_same_stem_keep_separate_overlays(tmp_path, astronaut, tiny_weights):
    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "a.jpg", astronaut)
    write_image(photos / "a.png", astronaut[:, ::-1])
    result = run("--headless", "--source", photos, "--weights", tiny_weights, "--save-overlay", tmp_path / "o")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.jpg.jpg", "a.png.jpg"]


def test_headless_video_with_max_frames(tmp_path, face_video, tiny_weights):
    out_csv = tmp_path / "v.csv"
    result = run("--headless", "--source", face_video, "--weights", tiny_weights, "--csv", out_csv,
                 "--max-frames", 25)
    assert result.returncode == 0, result.stderr
    frames = {row["frame"] for row in csv.DictReader(out_csv.open())}
    assert frames == {str(i) for i in range(25)}


def test_quiet_console_unless_verbose(tmp_path, face_video, tiny_weights):
    quiet = run("--headless", "--source", face_video, "--weights", tiny_weights, "--max-frames", 3)
    assert quiet.returncode == 0
    for noise in ("W0000", "XNNPACK", "absl::InitializeLog"):
        assert noise not in quiet.stderr
    loud = run("--headless", "--source", face_video, "--weights", tiny_weights, "--max-frames", 3, "--verbose")
    assert "XNNPACK" in loud.stderr or "W0000" in loud.stderr


def test_missing_weights_exit_cleanly(tmp_path, face_video):
    result = run("--headless", "--source", face_video, "--weights", tmp_path / "none.pt")
    assert result.returncode == 2
    assert "none.pt" in result.stderr and "Traceback" not in result.stderr


def test_a_size_without_that_layout_is_refused_by_name(tmp_path, photo_dir):
    """`small` ships in 68 points only: asking for it with 98 is a choice to name, not a missing file."""
    csv_path = tmp_path / "out.csv"
    result = run("--headless", "--source", photo_dir, "--model", "small", "--points", "98", "--csv", csv_path)
    assert result.returncode == 2 and not csv_path.exists()
    assert result.stderr.strip().splitlines() == [
        "error: --model small comes in 68 points only, not 98: leave out --points or choose another --model"]


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


# ---- no run ever destroys a user's file --------------------------------------------------------------

def test_csv_naming_the_source_video_is_refused(tmp_path, face_video, tiny_weights):
    video = tmp_path / "talk.mp4"
    video.write_bytes(face_video.read_bytes())
    before = video.read_bytes()
    for extra in ((), ("--overwrite",)):
        result = run("--headless", "--source", video, "--weights", tiny_weights, "--csv", video, *extra)
        assert result.returncode == 2 and "is the input" in result.stderr
        assert video.read_bytes() == before


def test_an_existing_csv_is_kept_unless_overwrite(tmp_path, face_video, tiny_weights):
    out = tmp_path / "take1.csv"
    out.write_text("my earlier take\n")
    result = run("--headless", "--source", face_video, "--weights", tiny_weights, "--csv", out, "--max-frames", 2)
    assert result.returncode == 2 and "already exists" in result.stderr and "--overwrite" in result.stderr
    assert out.read_text() == "my earlier take\n"
    result = run("--headless", "--source", face_video, "--weights", tiny_weights, "--csv", out, "--max-frames", 2,
                 "--overwrite")
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("frame,face_id")


def test_a_run_that_fails_to_start_leaves_an_existing_csv_alone(tmp_path, face_video, tiny_weights):
    out = tmp_path / "keep.csv"
    out.write_text("keep me\n")
    photos_file = tmp_path / "not_a_folder"
    photos_file.write_text("x")
    # Bad overlay folder: checked before the CSV is opened, even with --overwrite.
    result = run("--headless", "--source", face_video, "--weights", tiny_weights, "--csv", out, "--overwrite",
                 "--save-overlay", photos_file)
    assert result.returncode == 2 and "is a file" in result.stderr
    # Weights that do not load: the CSV is opened only once everything else is ready.
    result = run("--headless", "--source", face_video, "--weights", tmp_path / "absent.pt", "--csv", out,
                 "--overwrite")
    assert result.returncode == 2
    assert out.read_text() == "keep me\n"


def test_overlays_inside_the_input_folder_are_refused(tmp_path, photo_dir, tiny_weights):
    before = sorted(p.name for p in photo_dir.iterdir())
    for target in (photo_dir, photo_dir / "overlays"):
        result = run("--headless", "--source", photo_dir, "--weights", tiny_weights, "--save-overlay", target)
        assert result.returncode == 2 and "inside the input folder" in result.stderr
    assert sorted(p.name for p in photo_dir.iterdir()) == before


def test_existing_overlays_are_not_replaced_unless_overwrite(tmp_path, photo_dir, tiny_weights):
    overlays = tmp_path / "o"
    overlays.mkdir()
    (overlays / "astronaut.jpg.jpg").write_bytes(b"mine")
    result = run("--headless", "--source", photo_dir, "--weights", tiny_weights, "--save-overlay", overlays)
    assert result.returncode == 2 and "already holds overlays" in result.stderr
    assert (overlays / "astronaut.jpg.jpg").read_bytes() == b"mine"


def test_unwritable_overlay_folder_is_an_error_not_a_claim(photo_dir, tiny_weights):
    """/proc takes no files, not even root's (a read-only folder would not stop root)."""
    result = run("--headless", "--source", photo_dir, "--weights", tiny_weights, "--save-overlay",
                 "/proc/self/overlays")
    assert result.returncode == 2 and "cannot write there" in result.stderr
    assert "overlays in" not in result.stdout


def test_failed_overlay_write_is_an_error(tmp_path, photo_dir, tiny_weights):
    """A folder that cannot take the image (here: a folder in the way of the file name)."""
    overlays = tmp_path / "o"
    (overlays / "coffee.ppm.jpg").mkdir(parents=True)
    result = run("--headless", "--source", photo_dir, "--weights", tiny_weights, "--save-overlay", overlays,
                 "--overwrite")
    assert result.returncode == 1
    assert "cannot write image" in result.stderr and "coffee.ppm.jpg" in result.stderr
    assert "Traceback" not in result.stderr


def _limit_file_size(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)        # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_full_mid_run_gives_one_message_and_whole_rows(tmp_path, face_video, tiny_weights):
    out = tmp_path / "full.csv"
    result = run("--headless", "--source", face_video, "--weights", tiny_weights, "--csv", out,
                 preexec_fn=_limit_file_size(12_000))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "full.csv" in errors[0] and "whole rows" in errors[0]
    lines = out.read_text().split("\n")
    assert lines[-1] == ""                                    # ends on a whole row
    rows = list(csv.reader(lines[:-1]))
    assert rows[0] == csv_header(68) and len(rows) > 3
    assert all(len(r) == len(rows[0]) for r in rows)
    assert out.stat().st_size <= 12_000


def test_dev_full_is_one_clear_line(face_video, tiny_weights):
    result = run("--headless", "--source", face_video, "--weights", tiny_weights, "--csv", "/dev/full",
                 "--overwrite")
    assert result.returncode == 1                        # a failing write (README, exit codes), not bad input
    assert "No space left" in result.stderr and "Traceback" not in result.stderr


# ---- nothing dropped silently ---------------------------------------------------------------------------

def face_grid(astronaut, rows=3, cols=4, size=256):
    """A 'group photo': rows x cols copies of a real face, each mirrored or not."""
    import cv2
    tile = cv2.resize(astronaut, (size, size))
    grid = [[tile if (r + c) % 2 == 0 else tile[:, ::-1] for c in range(cols)] for r in range(rows)]
    return np.vstack([np.hstack(row) for row in grid])


def test_a_photo_of_12_faces_gives_12_rows(tmp_path, astronaut, tiny_weights):
    photo = tmp_path / "group.jpg"
    write_image(photo, face_grid(astronaut))
    out = tmp_path / "group.csv"
    result = run("--headless", "--source", photo, "--csv", out)           # the shipped 68-point model
    assert result.returncode == 0, result.stderr
    assert len(list(csv.DictReader(out.open()))) == 12
    capped = tmp_path / "capped.csv"
    result = run("--headless", "--source", photo, "--weights", tiny_weights, "--csv", capped, "--max-faces", 5)
    assert result.returncode == 0
    assert len(list(csv.DictReader(capped.open()))) == 5
    assert "12 faces found, landmarks for the first 5 only" in result.stderr


def test_a_truncated_video_is_reported(tmp_path, tiny_weights):
    from core.synthetic_video import astronaut_rgb, moving_face_frames, write_video
    clip = write_video(tmp_path / "clip.avi", moving_face_frames(astronaut_rgb(), 40, (160, 120)), 30, "MJPG")
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])
    result = run("--headless", "--source", clip, "--weights", tiny_weights)
    assert result.returncode == 0
    assert "ended early: read" in result.stderr and "of the 40 frames" in result.stderr


def test_a_checkpoint_with_nan_weights_fails_to_load(tmp_path, face_video):
    import torch

    from core.config import ModelConfig
    from core.model import MobileFAN, save_checkpoint
    model = MobileFAN(ModelConfig(width=0.35, deconv_channels=16))
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    save_checkpoint(model, tmp_path / "nan.pt")
    result = run("--headless", "--source", face_video, "--weights", tmp_path / "nan.pt")
    assert result.returncode == 2 and "nan.pt" in result.stderr and "non-finite" in result.stderr


# ---- stopping ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_headless_stops_on_a_signal_with_a_whole_csv(tmp_path, tiny_weights, signum):
    from core.synthetic_video import make_face_video
    video = make_face_video(tmp_path / "long.mp4", frames=600, size=(320, 240))
    out = tmp_path / "sig.csv"
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--headless", "--source", str(video),
                             "--weights", str(tiny_weights), "--csv", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.exists() and out.read_text().count("\n") >= 20):
        time.sleep(0.05)
    proc.send_signal(signum)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 1.5
    assert proc.returncode == 128 + signum and "interrupted" in err and "Traceback" not in err   # 130 / 143
    lines = out.read_text().split("\n")
    assert lines[-1] == "" and all(len(r) == len(csv_header(68)) for r in csv.reader(lines[:-1]))


def test_a_stop_request_ends_a_headless_run_between_frames(tmp_path, tiny_weights, face_video):
    """The signal handler also records the request and the loop asks before every frame, so a
    KeyboardInterrupt that an extension module swallows still stops the run, with whole rows."""
    from core.config import PipelineConfig
    from core.headless import open_run, run_headless
    from core.sources import open_source
    out = tmp_path / "stopped.csv"
    pipeline, recorder = open_run(PipelineConfig(weights=tiny_weights, runtime="onnxruntime"), out)
    asked = []
    summary = run_headless(open_source(face_video), pipeline, recorder, progress=False,
                           should_stop=lambda: asked.append(1) or len(asked) > 7)
    pipeline.close()
    assert summary.stopped and summary.frames == 7
    rows = list(csv.DictReader(out.open()))
    assert {int(r["frame"]) for r in rows} <= set(range(7)) and out.read_text().endswith("\n")


def test_no_eyelids_leaves_the_lids_to_the_face_network(tmp_path, face_video):
    """The eyelid network re-places only the eight lid points (37, 38, 40, 41, 43, 44, 46, 47);
    --no-eyelids leaves them where the face network put them."""
    with_net, without = tmp_path / "with.csv", tmp_path / "without.csv"
    for out, extra in ((with_net, ()), (without, ("--no-eyelids",))):
        result = run("--headless", "--source", face_video, "--csv", out, "--max-frames", "20", *extra)
        assert result.returncode == 0, result.stderr
    a, b = list(csv.DictReader(with_net.open())), list(csv.DictReader(without.open()))
    assert len(a) == len(b) >= 15
    lids = [37, 38, 40, 41, 43, 44, 46, 47]
    moved = np.array([[float(ra[f"y_{i}"]) - float(rb[f"y_{i}"]) for i in lids] for ra, rb in zip(a, b)])
    others = [i for i in range(68) if i not in lids]
    rest = np.array([[float(ra[f"{c}_{i}"]) - float(rb[f"{c}_{i}"]) for c in "xy" for i in others]
                     for ra, rb in zip(a, b)])
    # the rest only through the face-wide smoothing speed and the next crop: hundredths of a pixel
    assert np.abs(rest).max() < 0.1 < np.abs(moved).max()


def test_headless_csv_has_pose_and_eye_columns_that_follow_the_head(tmp_path, face_video):
    """The clip turns the astronaut's head in the image plane by a known angle (15 sin 2 pi t):
    pose_Rz must follow it (OpenFace: + is clockwise on screen, OpenCV's angle is counter-clockwise)."""
    import math
    out = tmp_path / "pose.csv"
    result = run("--headless", "--source", face_video, "--csv", out)
    assert result.returncode == 0, result.stderr
    rows = [r for r in csv.DictReader(out.open()) if r["success"] == "1"]
    assert len(rows) >= 85
    cols = ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz", "ear_left", "ear_right", "mouth_open"]
    assert all(math.isfinite(float(r[c])) for r in rows for c in cols)
    assert all(r["blink"] in ("0", "1") for r in rows)
    frames = np.array([int(r["frame"]) for r in rows])
    turn = 15.0 * np.sin(2 * math.pi * frames / 89)               # synthetic_video: t = i / (frames - 1)
    roll = np.degrees([float(r["pose_Rz"]) for r in rows])
    assert np.corrcoef(roll, -turn)[0, 1] > 0.95
    assert np.abs(roll + turn - np.median(roll + turn)).mean() < 3.0
    tz = np.array([float(r["pose_Tz"]) for r in rows])
    assert 300 < np.median(tz) < 1500                              # a face a few tens of cm away
    ears = np.array([float(r["ear_left"]) for r in rows])
    assert 0.15 < np.median(ears) < 0.45                           # open eyes


def test_camera_intrinsics_can_be_given(tmp_path, face_video):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run("--headless", "--source", face_video, "--csv", a, "--max-frames", 3).returncode == 0
    assert run("--headless", "--source", face_video, "--csv", b, "--max-frames", 3, "--fx", 1000, "--fy", 1000,
               ).returncode == 0
    tz_a = float(next(csv.DictReader(a.open()))["pose_Tz"])
    tz_b = float(next(csv.DictReader(b.open()))["pose_Tz"])
    assert tz_b / tz_a == pytest.approx(1000 / 375, rel=0.05)     # 480x360: OpenFace's fx is 500 (0.75 + 0.75) / 2
    bad = run("--headless", "--source", face_video, "--fx", 0)
    assert bad.returncode == 2 and "positive" in bad.stderr


# ---- a quiet console and the README's exit codes ----------------------------------------------------------

NATIVE_NOISE = ("[ WARN", "[ERROR", "[mov", "[NULL @", "[mpeg4 @", "moov atom", "weights_only", "Traceback",
                "torch.load")


def damaged_video(path, frames=60):
    """A real clip with garbage written over parts of its data: FFmpeg complains about every
    broken packet, OpenCV reads what it can, and the file ends early."""
    from core.synthetic_video import astronaut_rgb, moving_face_frames, write_video
    write_video(path, moving_face_frames(astronaut_rgb(), frames, (320, 240)))
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for offset in range(2000, len(data) - 20000, 3000):
        data[offset:offset + 40] = rng.integers(0, 256, 40, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def readme_exit_codes():
    """The README's one table of exit codes: {code: meaning}."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].strip("`").isdigit():
            codes[int(cells[0].strip("`"))] = cells[1]
    return codes


def test_the_readme_has_one_table_of_exit_codes_and_the_code_uses_it():
    from core import errors
    codes = readme_exit_codes()
    assert set(codes) == {errors.EXIT_DONE, errors.EXIT_FAILED, errors.EXIT_BAD_INPUT, errors.EXIT_INTERRUPTED,
                          errors.EXIT_TERMINATED} == {0, 1, 2, 130, 143}
    assert "write" in codes[1] and "nothing was written" in codes[2]
    assert "Ctrl-C" in codes[130] and "SIGTERM" in codes[143]


def test_bad_inputs_get_our_own_lines_only_and_the_readme_exit_codes(tmp_path, face_video, tiny_weights):
    codes = readme_exit_codes()
    damaged = damaged_video(tmp_path / "damaged.mp4")
    cut = tmp_path / "cut.mp4"                                  # its index (moov) was at the end: gone
    cut.write_bytes(face_video.read_bytes()[: face_video.stat().st_size // 2])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    not_ours = tmp_path / "random.pt"
    not_ours.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    cases = [  # (arguments, exit code, what our own line says)
        (["--source", damaged, "--weights", tiny_weights, "--csv", tmp_path / "d.csv"], 0, "ended early"),
        (["--source", cut, "--weights", tiny_weights], 2, "cannot read video"),
        (["--source", empty, "--weights", tiny_weights], 2, "cannot read video"),
        (["--source", 9, "--weights", tiny_weights, "--max-frames", 3], 2, "no camera at index 9"),
        (["--source", face_video, "--weights", not_ours], 2, "random.pt: not a MobileFAN checkpoint"),
        (["--source", face_video, "--weights", tiny_weights, "--read-ahead", -1], 2, "--read-ahead must be at least 0"),
        (["--source", face_video, "--weights", tiny_weights, "--decode-nice", -1], 2, "--decode-nice must be at least 0"),
        (["--source", face_video, "--weights", tiny_weights, "--decode-nice", 20], 2, "--decode-nice must be at most 19"),
    ]
    for args, code, said in cases:
        result = run("--headless", *args)
        assert result.returncode == code and code in codes, (args, result.returncode, result.stderr[-1500:])
        assert said in result.stderr, (args, result.stderr[-1500:])
        console = result.stdout + result.stderr
        noise = [n for n in NATIVE_NOISE if n in console]
        assert not noise, (args, noise, console[-2000:])
        lines = [ln for ln in console.replace("\r", "\n").splitlines() if ln.strip()]
        assert not [ln for ln in lines if ln.lstrip().startswith("[")], lines      # native logs start with [
        if code:
            errors = [ln for ln in lines if ln.startswith("error:")]
            assert len(errors) == 1 and lines[-1] == errors[0], lines              # one line, the last one
    # With --verbose the native lines come back (so the quiet ones were really silenced, not absent).
    loud = run("--headless", "--source", damaged, "--weights", tiny_weights, "--verbose")
    assert "[mpeg4 @" in loud.stderr or "Error at MB" in loud.stderr, loud.stderr[-1500:]


def test_model_threads_default_to_one_on_two_cores_and_two_above():
    """On 2 cores a second model thread takes the core decoding and the eyelid network need
    (core/threads.py); with more cores the network has two."""
    from core.threads import default_model_threads
    assert [default_model_threads(n) for n in (1, 2, 3, 4, 16)] == [1, 1, 2, 2, 2]
    assert default_model_threads(None) in (1, 2)


def test_threads_on_the_command_line_win_over_the_default():
    import main
    from core.threads import default_model_threads
    parser = main.build_parser()
    assert main.make_config(parser.parse_args(["--threads", "3"]), 68).num_threads == 3
    assert main.make_config(parser.parse_args([]), 68).num_threads == default_model_threads()


def test_numpy_blas_is_kept_to_one_thread_unless_the_user_chose():
    """main.py sets OPENBLAS_NUM_THREADS before numpy loads (its busy-waiting worker thread took CPU
    the pipeline needs: core/threads.py); a count the user set is left alone."""
    probe = "import os; import main, numpy; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENBLAS_NUM_THREADS"}
    fresh = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert fresh.stdout.strip() == "1", fresh.stderr[-800:]
    chosen = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env={**env, "OPENBLAS_NUM_THREADS": "3"},
                            capture_output=True, text=True)
    assert chosen.stdout.strip() == "3", chosen.stderr[-800:]
    # Too late once numpy is loaded (OpenBLAS read the variable then): it does not pretend otherwise.
    late = subprocess.run([sys.executable, "-c", "import os, numpy; from core.threads import keep_blas_to_one_thread; "
                           "keep_blas_to_one_thread(); print(os.environ.get('OPENBLAS_NUM_THREADS'))"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert late.stdout.strip() == "None", late.stderr[-800:]
