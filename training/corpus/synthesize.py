"""Add pose-synthesised views of the training faces to a corpus (training/pose_synthesis.py).

    python -m training.corpus.synthesize --cache cache/corpus2 --views 2 \
        --sheet weights/pose_synthesis_contact_sheet.jpg

Writes `manifest_synth.jsonl` beside `manifest.jsonl`: every record of it
(validation untouched) plus, for each training face (photos all, video
frames every `--frame-step`-th), `--views` new views turned to a yaw drawn
from +-75 degrees (at most `--max-turn` from the face's own, whose yaw the
face mesh gives) and a pitch within +-20, saved as face-centred JPEGs under
`synth/`. Only training faces are turned: validation stays real photos.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from core.images import read_rgb, write_image
from core.landmarks import LAYOUT_68
from training.contact_sheet import grid, labelled_tile
from training.corpus.face_mesh import FaceMesh3D
from training.corpus.manifest import FaceRecord, read_manifest, write_manifest
from training.corpus.pack import pack_record
from training.pose_synthesis import synthesize

log = logging.getLogger(__name__)
MAX_YAW, MAX_PITCH = 75.0, 20.0


def target_pose(rng: np.random.Generator, own_yaw: float, max_turn: float) -> tuple[float, float]:
    """A yaw within +-75 degrees and at most `max_turn` from the face's own; a pitch within +-20."""
    lo, hi = max(-MAX_YAW, own_yaw - max_turn), min(MAX_YAW, own_yaw + max_turn)
    yaw = float(rng.uniform(lo, hi))
    if abs(yaw - own_yaw) < 10:                       # a view close to the original adds little
        yaw = own_yaw + (10 if yaw >= own_yaw else -10)
    return yaw - own_yaw, float(rng.uniform(-MAX_PITCH, MAX_PITCH))


def synthesize_corpus(cache: Path, views: int, max_turn: float, frame_step: int, seed: int,
                      sheet: Path | None = None, manifest: str = "manifest.jsonl",
                      out: str | None = None) -> Path:
    """Writes `out` (default: `<manifest stem>_synth.jsonl`, views under `synth/`, or `synth_<stem>/`
    for another manifest, e.g. one with eyelid labels: training/eyelid_labels.py)."""
    records = read_manifest(cache / manifest)
    stem = Path(manifest).stem
    folder = "synth" if manifest == "manifest.jsonl" else f"synth_{stem}"
    out_dir = cache / folder
    out_dir.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    mesher = FaceMesh3D()
    added: list[FaceRecord] = []
    tiles: list[np.ndarray] = []
    frame_counter = 0
    for i, rec in enumerate(tqdm(records, desc="pose synthesis", unit="face")):
        if rec.split != "train" or len(rec.points) != 68:
            continue
        if "frames" in Path(rec.image).parts:
            frame_counter += 1
            if frame_counter % frame_step:
                continue
        image = read_rgb(cache / rec.image)
        points = rec.points_array()
        mesh = mesher.mesh(image, points)
        if mesh is None:
            continue
        own_yaw = float(rec.extra.get("yaw_mesh", 0.0))
        for v in range(views):
            d_yaw, d_pitch = target_pose(rng, own_yaw, max_turn)
            view, labels = synthesize(image, points, mesh, d_yaw, d_pitch)
            moved = replace(rec, points=np.round(labels, 2).tolist(), source=f"synth:{rec.source}",
                            detector_box=None, extra={"synth_from": rec.image, "synth_yaw": round(d_yaw, 1),
                                                      "synth_pitch": round(d_pitch, 1),
                                                      "yaw_mesh": round(own_yaw + d_yaw, 1)})
            # Keep only the face's neighbourhood: a face-centred copy, as the packer makes.
            patch, packed = pack_record(cv2.cvtColor(view, cv2.COLOR_RGB2BGR), moved, margin=2.0, face_px=200)
            name = f"{folder}/{i:06d}_{v}.jpg"
            cv2.imwrite(str(cache / name), patch, [cv2.IMWRITE_JPEG_QUALITY, 92])
            added.append(replace(packed, image=name))
            if sheet is not None and len(tiles) < 48 and (i + v) % 7 == 0:
                tiles.append(labelled_tile(view, labels, LAYOUT_68, 1.6, 160, upright=False))
    mesher.close()
    path = cache / (out or f"{stem}_synth.jsonl")
    write_manifest(path, records + added)
    log.info("%d synthesised views of %d training faces -> %s", len(added), len(added) // max(views, 1), path)
    if sheet is not None and tiles:
        write_image(sheet, grid(tiles, 8), 85)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("cache/corpus2"))
    parser.add_argument("--views", type=int, default=2, help="new views per training face")
    parser.add_argument("--max-turn", type=float, default=50.0, help="largest turn from the face's own yaw")
    parser.add_argument("--frame-step", type=int, default=4, help="turn every n-th video frame (photos: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sheet", type=Path, help="write a contact sheet of synthesised views here")
    parser.add_argument("--manifest", default="manifest.jsonl", help="the manifest (in --cache) to add views to")
    parser.add_argument("--out", help="the manifest written (default: <manifest stem>_synth.jsonl)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    synthesize_corpus(args.cache, args.views, args.max_turn, args.frame_step, args.seed, args.sheet,
                      args.manifest, args.out)


if __name__ == "__main__":
    main()
