"""Does a refactor change what users get? CLI output and CSV bytes, this tree against another.

    git worktree add /tmp/before <commit>
    python -m bench.same_output --before /tmp/before

Runs `main.py --headless` from both checkouts on the same inputs (a face video made from
scikit-image's astronaut, and a folder of photos: one face, two faces, no face, a broken file)
and prints a table: the CSV files byte for byte (where they differ, the largest difference of
a number and its column), and the console lines with the run's own timings masked (frames/s and
the progress bar differ between any two runs).
"""
from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_inputs(folder: Path) -> dict[str, Path]:
    import numpy as np
    from skimage import data

    from core.images import write_image
    from core.synthetic_video import astronaut_rgb, make_face_video
    video = make_face_video(folder / "face.mp4", frames=90, size=(480, 360))
    photos = folder / "photos"
    photos.mkdir()
    face = astronaut_rgb()
    write_image(photos / "astronaut.jpg", face)
    write_image(photos / "pair.png", np.hstack([face, face[:, ::-1]]))
    write_image(photos / "coffee.ppm", data.coffee())
    (photos / "broken.jpg").write_bytes(b"not really a jpeg")
    return {"video": video, "photos": photos}


def console_lines(text: str) -> list[str]:
    """The console without what differs between any two runs: progress bars and rates."""
    lines = []
    for line in text.replace("\r", "\n").splitlines():
        if not line.strip() or line.startswith("landmarks:"):
            continue
        lines.append(re.sub(r"[\d.]+ frames/s", "N frames/s", line))
    return lines


def run(tree: Path, source: Path, csv: Path, extra: list[str]) -> tuple[int, list[str], bytes]:
    result = subprocess.run([sys.executable, "main.py", "--headless", "--source", str(source), "--csv", str(csv),
                             *extra], cwd=tree, capture_output=True, text=True, timeout=600)
    text = (result.stdout + result.stderr).replace(str(csv), "OUT.csv")
    return result.returncode, console_lines(text), csv.read_bytes() if csv.exists() else b""


def largest_difference(before: bytes, after: bytes) -> str:
    """Where two CSVs differ: the largest difference of a numeric cell and its column, or why
    they cannot be compared cell by cell (other columns or rows, a text cell changed)."""
    import csv
    import io
    a, b = (list(csv.reader(io.StringIO(x.decode()))) for x in (before, after))
    if not a or not b or a[0] != b[0] or len(a) != len(b):
        return "columns or rows differ"
    worst, where = 0.0, ""
    for row_a, row_b in zip(a[1:], b[1:]):
        for column, x, y in zip(a[0], row_a, row_b):
            if x == y:
                continue
            try:
                diff = abs(float(x) - float(y))
            except ValueError:
                return f"text differs in {column}"
            if diff > worst:
                worst, where = diff, column
    return f"largest {worst:.3g} ({where})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (e.g. a git worktree)")
    parser.add_argument("--runtime", default="onnxruntime-int8")
    args = parser.parse_args(argv)
    same = True
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(Path(tmp))
        print("| input | exit codes | console lines | CSV bytes | CSV sha256 (this tree) |")
        print("|---|---|---|---|---|")
        for name, source in inputs.items():
            extra = ["--runtime", args.runtime]
            a = run(args.before, source, Path(tmp) / f"{name}-before.csv", extra)
            b = run(ROOT, source, Path(tmp) / f"{name}-after.csv", extra)
            console = "same" if a[1] == b[1] else "DIFFER"
            data = "same" if a[2] == b[2] else f"DIFFER, {largest_difference(a[2], b[2])}"
            same &= a[0] == b[0] and console == "same" and data == "same"
            print(f"| {name} | {a[0]} / {b[0]} | {console} ({len(b[1])}) | {data} ({len(b[2])}) | "
                  f"{hashlib.sha256(b[2]).hexdigest()[:16]} |")
            if console != "same":
                print("  before:", a[1], "\n  after: ", b[1])
    print("identical" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
