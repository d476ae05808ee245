"""How finely the detector tiles a photo: faces found, detections no label explains, time.

A photo is searched whole and in overlapping tiles (core/detector.py `detect_tiled`, tiles of 640
and 384 px), because BlazeFace sees a downscaled image and the small faces of a group photo vanish
without tiling. Finer tiles find smaller faces, at more detector calls and more chances of a
detection on something that is not a face. This prints, for each set of tile sizes, how many
labelled faces a detection lands on (its box centre within one outer-eye distance of the label's
centre, or half the box side for a large box), how many detections land on no label (unlabelled
real faces as well as false ones: look at them), and the detector's time:

    python -m bench.photo_tiles --manifest cache/corpus2/manifest.jsonl --split val --tiles 640,384 640,384,256
    python -m bench.photo_tiles --photos DIR [--labels FILE.json] --tiles 640,384 640,384,256

(annotations as for bench/heldout_photos.py). The detector alone, not the app: the landmarks' own
checks come after it. Times are one run's, on whatever else the machine is doing.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.heldout_photos import LAYOUT, add_photo_arguments, annotated_photos
from core.detector import BlazeFaceDetector, Detection
from core.images import read_rgb
from core.landmarks import interocular
from core.native_logs import set_quiet


def tile_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"tile sizes are comma-separated pixels, e.g. 640,384; got {text!r}")
    if not sizes or min(sizes) < 64:
        raise argparse.ArgumentTypeError(f"tile sizes must be at least 64 px, got {text!r}")
    return sizes


def labelled_hits(labels: list[np.ndarray], detections: list[Detection]) -> tuple[int, int]:
    """(labelled faces a detection lands on, detections on no label); each detection serves one face."""
    used: set[int] = set()
    for label in labels:
        centre, eyes = label.mean(axis=0), interocular(label, LAYOUT)
        near = [(float(np.hypot((d.box[0] + d.box[2]) / 2 - centre[0], (d.box[1] + d.box[3]) / 2 - centre[1])), i)
                for i, d in enumerate(detections) if i not in used]
        near = [(distance, i) for distance, i in near
                if distance < max(eyes, (detections[i].box[2] - detections[i].box[0]) / 2)]
        if near:
            used.add(min(near)[1])                        # the nearest detection
    return len(used), len(detections) - len(used)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_photo_arguments(parser)
    parser.add_argument("--tiles", nargs="+", type=tile_sizes, default=[(640, 384), (640, 384, 256)],
                        help="sets of tile sizes to compare, each comma-separated (default: 640,384 640,384,256)")
    args = parser.parse_args(argv)
    set_quiet(True)                                       # MediaPipe's start-up lines (core/native_logs.py)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            photos, labels, _ = annotated_photos(args, Path(scratch))
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        detector = BlazeFaceDetector("full")
        total = sum(len(faces) for faces in labels.values())
        print(f"{total} labelled faces in {len(labels)} photos\n")
        print("| tiles (px) | labelled faces found | detections on no label | detector seconds |")
        print("|---|---|---|---|")
        for tiles in args.tiles:
            found = unexplained = 0
            seconds = 0.0
            for name, faces in labels.items():
                rgb = read_rgb(photos / name)                 # one at a time: a folder of large photos
                start = time.perf_counter()                   # need not fit in memory at once
                detections = detector.detect_tiled(rgb, tiles)
                seconds += time.perf_counter() - start
                hit, other = labelled_hits(faces, detections)
                found, unexplained = found + hit, unexplained + other
            print(f"| {', '.join(map(str, tiles))} | {found} of {total} | {unexplained} | {seconds:.1f} |", flush=True)
        detector.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
