"""Pack a corpus into a small, portable copy: one face-centred JPEG per face.

    python -m training.corpus.pack --manifest cache/corpus/manifest.jsonl --out cache/packed68

Why: the full corpus (source packages, whole frames, 1920 px group photos)
is hundreds of MB, but training at 128 px only ever looks at a square a
little larger than each face. A remote training machine (a lent GPU with no
network) gets this copy instead; it trains to the same result because every
augmented crop (rotation +-30 deg, scale up to 1.2, shift 0.08) still lies
inside the packed square. The output is an ordinary manifest, so
`training.train` and `training.evaluate` read it unchanged.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from core.config import DEFAULT_LANDMARK_SCALE
from training.corpus.manifest import FaceRecord, read_manifest, write_manifest
from core.geometry import crop_from_landmarks
from core.landmarks import layout_for

# Half-diagonal of a 1.2x crop rotated 45 deg plus a 0.08 shift is ~0.93 of
# the crop side; 2.0 leaves room for that on every side.
DEFAULT_MARGIN = 2.0
DEFAULT_FACE_PX = 160   # crop side in packed pixels: above 128 px input even at scale 0.85


def pack_record(image: np.ndarray, record: FaceRecord, margin: float, face_px: int,
                landmark_scale: float = DEFAULT_LANDMARK_SCALE) -> tuple[np.ndarray, FaceRecord]:
    """Cut an axis-aligned square around one face, shrunk (never enlarged) so
    the landmark crop spans at most `face_px` pixels; return it and the
    record with every coordinate moved into it."""
    pts = record.points_array()
    crop = crop_from_landmarks(pts, layout_for(len(pts)), landmark_scale)
    k = min(1.0, face_px / crop.side)
    side_px = int(round(crop.side * margin * k))
    x0, y0 = crop.cx - crop.side * margin / 2, crop.cy - crop.side * margin / 2
    matrix = np.array([[k, 0, -x0 * k], [0, k, -y0 * k]], dtype=np.float64)
    patch = cv2.warpAffine(image, matrix, (side_px, side_px), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    def move(xy: np.ndarray) -> np.ndarray:
        return (np.asarray(xy, np.float64) - (x0, y0)) * k

    def move_box(box: list[float] | None) -> list[float] | None:
        if box is None:
            return None
        return [round(float(v), 2) for v in move(np.reshape(box, (2, 2))).ravel()]

    moved = replace(record, points=np.round(move(pts), 2).tolist(), box=move_box(record.box),
                    detector_box=move_box(record.detector_box),
                    extra={**record.extra, "packed_from": record.image, "packed_scale": k})
    return patch, moved


def pack_corpus(manifest: str | Path, out: str | Path, margin: float = DEFAULT_MARGIN,
                face_px: int = DEFAULT_FACE_PX, quality: int = 92) -> Path:
    manifest, out = Path(manifest), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    packed = []
    for i, record in enumerate(read_manifest(manifest)):
        image = cv2.imread(str(manifest.parent / record.image))
        if image is None:
            raise FileNotFoundError(f"{manifest.parent / record.image}: cannot read (rebuild the corpus?)")
        patch, moved = pack_record(image, record, margin, face_px)
        # Keep the original path (the evaluation tells video frames from photos by it).
        name = str(Path(record.image).with_suffix(f".face{i}.jpg"))
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out / name), patch, [cv2.IMWRITE_JPEG_QUALITY, quality])
        packed.append(replace(moved, image=name))
    write_manifest(out / "manifest.jsonl", packed)
    return out / "manifest.jsonl"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN)
    parser.add_argument("--face-px", type=int, default=DEFAULT_FACE_PX)
    parser.add_argument("--quality", type=int, default=92)
    args = parser.parse_args(argv)
    path = pack_corpus(args.manifest, args.out, args.margin, args.face_px, args.quality)
    size = sum(f.stat().st_size for f in path.parent.rglob("*") if f.is_file())
    print(f"{path}: {len(read_manifest(path))} faces, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
