"""Find faces whose label is wrong: two independent readers agree with each other, not with it.

    python -m training.label_audit --data cache/corpus2/manifest.jsonl --split val \
        --out runs/label_audit_val.json --sheet runs/label_audit_val.jpg
    python -m training.evaluate --data cache/corpus2/manifest.jsonl --buckets --runtime auto \
        --exclude runs/label_audit_val.json weights/mobilefan_68.pt

Our labels are dlib's 68 points, kept when dlib answers the same on the
mirrored image (training/corpus/build.py). That check cannot catch a face dlib
misreads the same way both times: on a 160x120 movie dlib put one man's mouth on
his chin in frame after frame, and every model, right, "failed" there.

The two readers: the accurate network, run mirrored (as the app runs it), and
the face mesh read as dlib's 68 points (weights/mesh68.onnx, core/mesh_blend.py),
which learned dlib's layout from the training people through a 1.6 k-parameter
linear map but nothing of these faces. A label is suspect when the mesh's reading
misses it by more than `AuditRule.min_label_error` while the two readers agree
with each other to within `max_reader_gap_share` of that miss. The rule finds
candidates; the contact sheet is for a person to confirm every one (label green,
the readers' mean red).

The steering set keeps every face: `training.evaluate --exclude` reports a
second table without the listed faces, beside the first, never instead of it.
"""
from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.landmarks import LAYOUT_68, interocular
from training.datasets import FaceSample, load_samples, read_rgb_cached

log = logging.getLogger(__name__)

ACCURATE_68 = Path("weights/mobilefan_68_accurate.pt")


@dataclass(frozen=True)
class AuditRule:
    """When two readers outvote a label."""
    min_label_error: float = 0.08       # the mesh's NME against the label (the failure threshold is 0.10)
    max_reader_gap_share: float = 0.5   # the readers' NME against each other / the mesh's against the label


def face_key(sample: FaceSample) -> str:
    """A face's name that survives a rebuilt cache: the image's last three path parts and the
    label's centre in whole pixels (an image can hold several faces)."""
    cx, cy = np.asarray(sample.points, np.float64).mean(0)
    return f"{'/'.join(Path(sample.image).parts[-3:])}@{cx:.0f},{cy:.0f}"


def suspect_labels(mesh_label_error: np.ndarray, reader_gap: np.ndarray, rule: AuditRule = AuditRule()
                   ) -> np.ndarray:
    """True where the readers agree with each other and the label is far from both: the mesh's
    reading misses the label by more than `min_label_error` while the readers' gap is at most
    `max_reader_gap_share` of that miss."""
    mesh_label_error = np.asarray(mesh_label_error, np.float64)
    reader_gap = np.asarray(reader_gap, np.float64)
    return (mesh_label_error > rule.min_label_error) & (reader_gap <= rule.max_reader_gap_share * mesh_label_error)


def read_faces(samples: list[FaceSample], checkpoint: Path = ACCURATE_68) -> tuple[np.ndarray, np.ndarray]:
    """(network points, mesh points), each (faces, 68, 2) frame pixels: the accurate network run
    mirrored on the crop framed from each label, and the mesh's reading of the same crop."""
    from core.landmarks import layout_for
    from core.mesh_blend import MeshBlend
    from core.mirror_test import MirrorAveragingRunner
    from core.model import load_checkpoint
    from core.predictor import LandmarkPredictor
    from core.torch_runners import make_runner
    from training.evaluate import framed_faces, predict_samples  # evaluate imports this module

    model = load_checkpoint(checkpoint).model
    if model.config.num_points != 68:
        raise ValueError(f"the audit reads 68 points; {checkpoint} has {model.config.num_points}")
    runner = MirrorAveragingRunner(make_runner(model, "auto", threads=2, checkpoint=checkpoint), layout_for(68))
    network = predict_samples(model, samples, runner)
    mesh = MeshBlend()
    framing = LandmarkPredictor(model.config, runner)
    meshed = [mesh.read(rgb, [crop], model.config.landmark_scale, mirror=True)[0]
              for rgb, crop in framed_faces(framing, samples)]
    return np.array(network, np.float32).reshape(-1, 68, 2), np.array(meshed, np.float32).reshape(-1, 68, 2)


def audit(samples: list[FaceSample], network: np.ndarray, mesh: np.ndarray, rule: AuditRule = AuditRule()
          ) -> list[dict]:
    """One row per suspect face: its key, image, person and the three NMEs (normalised by the
    label's eye corners, as everywhere)."""
    rows = []
    for s, n, m in zip(samples, network, mesh):
        eyes = interocular(s.points, LAYOUT_68)
        label_mesh, label_net, gap = (_nme(m, s.points, eyes), _nme(n, s.points, eyes), _nme(n, m, eyes))
        if suspect_labels(label_mesh, gap, rule):
            rows.append({"key": face_key(s), "image": str(s.image), "person": s.person,
                         "mesh_vs_label": round(float(label_mesh), 4),
                         "network_vs_label": round(float(label_net), 4), "network_vs_mesh": round(float(gap), 4)})
    return rows


def _nme(a: np.ndarray, b: np.ndarray, eyes: float) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - b, axis=1).mean() / eyes)


def read_exclusions(path: Path) -> set[str]:
    """The face keys an audit file lists (`--out` of this module)."""
    try:
        return {row["key"] for row in json.loads(Path(path).read_text())["faces"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a label audit file ({exc})") from exc


def sheet(samples: list[FaceSample], network: np.ndarray, mesh: np.ndarray, keys: set[str], size: int = 200
          ) -> np.ndarray | None:
    """Each suspect face twice, side by side, in the same crop (framed from the label): the label in
    green, then the readers' mean in red (RGB). Points are drawn after the crop is scaled, so a
    160x120 frame's face is as legible as a portrait's."""
    import cv2
    from core.geometry import crop_from_landmarks, frame_to_crop, warp_crop
    from training.contact_sheet import grid
    tiles = []
    for s, n, m in zip(samples, network, mesh):
        if face_key(s) not in keys:
            continue
        crop = crop_from_landmarks(s.points, LAYOUT_68, 1.6)
        patch = warp_crop(read_rgb_cached(str(s.image)), crop, size)
        for points, colour in ((s.points, (0, 255, 0)), ((n + m) / 2, (255, 0, 0))):
            tile = patch.copy()
            for x, y in frame_to_crop(crop, np.asarray(points, np.float64), size):
                cv2.circle(tile, (int(round(x)), int(round(y))), 2, colour, -1, cv2.LINE_AA)
            tiles.append(tile)
    return grid(tiles, 6) if tiles else None


def main(argv: list[str] | None = None) -> None:
    import cv2
    from core.threads import set_thread_counts

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a corpus manifest (68-point labels)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--checkpoint", type=Path, default=ACCURATE_68, help="the network reader")
    parser.add_argument("--out", type=Path, required=True, help="the suspect faces, JSON (evaluate --exclude reads it)")
    parser.add_argument("--sheet", type=Path, help="contact sheet: each suspect face's label, then the readers' mean")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    set_thread_counts(2)
    samples = [s for s in load_samples(args.data, args.split) if len(s.points) == 68]
    if not samples:
        parser.error(f"no 68-point faces in {args.data} ({args.split})")
    if args.out.exists():
        parser.error(f"{args.out} exists; remove it or name another")
    try:
        network, mesh = read_faces(samples, args.checkpoint)
    except ValueError as exc:
        parser.error(str(exc))
    rule = AuditRule()
    rows = audit(samples, network, mesh, rule)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"data": args.data, "split": args.split, "checkpoint": str(args.checkpoint),
                                    "rule": asdict(rule), "faces_read": len(samples), "faces": rows}, indent=1))
    log.info("%d of %d faces have labels both readers disagree with -> %s", len(rows), len(samples), args.out)
    for row in rows:
        log.info("  %s  mesh %.3f  network %.3f  readers apart %.3f", row["key"], row["mesh_vs_label"],
                 row["network_vs_label"], row["network_vs_mesh"])
    if args.sheet is not None:
        image = sheet(samples, network, mesh, {r["key"] for r in rows})
        if image is not None:
            cv2.imwrite(str(args.sheet), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            log.info("contact sheet -> %s", args.sheet)


if __name__ == "__main__":
    main()
