"""Start-up: how long until a one-photo headless run has written its first CSV row.

    python -m bench.startup                         # this tree
    python -m bench.startup --also /tmp/before      # and another checkout, alternated in one run

Starts `main.py --headless --source PHOTO --csv OUT` as a user would (a fresh
interpreter each time), polls the CSV every 2 ms and records when its first
data row appears, then when the process exits; also whether torch was
imported (read from the run's `-X importtime` log). Trees are alternated
run by run, so a noisy machine hurts them alike; the table gives medians and
the ratio to the first tree.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(tree: Path, photo: Path, out: Path, runtime: str | None) -> tuple[float, float, bool]:
    """(seconds to the first row, seconds to exit, torch imported)."""
    out.unlink(missing_ok=True)
    log = out.with_suffix(".imports")
    extra = ["--runtime", runtime] if runtime else []
    with log.open("w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-X", "importtime", "main.py", "--headless", "--source", str(photo),
                                 "--csv", str(out), *extra], cwd=tree, stdout=subprocess.DEVNULL, stderr=err)
        first = None
        while proc.poll() is None or first is None:
            if first is None and out.exists() and out.read_bytes().count(b"\n") >= 2:
                first = time.perf_counter() - start
            if proc.poll() is not None and first is None:
                first = float("nan") if not out.exists() or out.read_bytes().count(b"\n") < 2 else \
                    time.perf_counter() - start
                break
            time.sleep(0.002)
        proc.wait()
        total = time.perf_counter() - start
    torch = any(line.rsplit("|", 1)[-1].strip() == "torch" for line in log.read_text().splitlines()
                if line.startswith("import time:"))
    if proc.returncode != 0:
        raise RuntimeError(f"{tree}: main.py exited {proc.returncode}")
    return first, total, torch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--also", type=Path, action="append", default=[], help="another checkout to compare with")
    parser.add_argument("--runs", type=int, default=5, help="runs per tree (default 5)")
    parser.add_argument("--runtime", help="--runtime for main.py (default: its default)")
    args = parser.parse_args(argv)
    from core.images import write_image
    from core.synthetic_video import astronaut_rgb

    trees = [ROOT, *args.also]
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "face.jpg"
        write_image(photo, astronaut_rgb())
        results: dict[Path, list[tuple[float, float, bool]]] = {t: [] for t in trees}
        for tree in trees:                                     # a warm-up each: the OS file cache
            one_run(tree, photo, Path(tmp) / "warm.csv", args.runtime)
        for _ in range(args.runs):
            for tree in trees:
                results[tree].append(one_run(tree, photo, Path(tmp) / "out.csv", args.runtime))
    base = statistics.median(r[0] for r in results[ROOT])
    print(f"one-photo headless run, {args.runs} runs per tree, alternated; medians")
    print("| tree | first CSV row (s) | exit (s) | exit after the row (s) | x this tree (first row) | torch imported |")
    print("|---|---|---|---|---|---|")
    for tree, rows in results.items():
        first = statistics.median(r[0] for r in rows)
        total = statistics.median(r[1] for r in rows)
        tail = statistics.median(r[1] - r[0] for r in rows)         # writing the rest, closing, tearing down
        torch = "yes" if all(r[2] for r in rows) else ("no" if not any(r[2] for r in rows) else "some runs")
        name = "this tree" if tree == ROOT else str(tree)
        print(f"| {name} | {first:.2f} | {total:.2f} | {tail:.2f} | {first / base:.2f} | {torch} |")


if __name__ == "__main__":
    main()
