"""98-point (WFLW layout) pseudo-labels for the corpus from MediaPipe's face mesh.

    python -m training.corpus.label_98 --cache cache/corpus            # writes manifest98.jsonl
    python -m training.corpus.label_98 --cache cache/corpus --check    # + agreement table and contact sheet

Reads the 68-point manifest (same images, people and split), runs the
refined face mesh on an upright crop around each face and maps it to WFLW
with training/corpus/mesh_to_wflw.py. A face is skipped when the mesh and the
68-point teacher disagree (they are independent models: agreement is
evidence both are right).
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.images import ImageReadError, read_rgb, write_image
from core.landmarks import LAYOUT_68, LAYOUT_98, REGIONS_68, WFLW_TO_68, as_68
from core.metrics import region_errors_68
from training.contact_sheet import grid, labelled_tile
from training.corpus.face_mesh import FaceMesh3D
from training.corpus.manifest import FaceRecord, read_manifest, write_manifest
from training.corpus.mesh_to_wflw import wflw_from_mesh

MAX_DISAGREEMENT = 0.12      # mean distance to the 68-point teacher / interocular



class MeshLabeller:
    """98 WFLW points of a face from the face mesh (training/corpus/face_mesh.py)."""

    def __init__(self) -> None:
        self._mesh = FaceMesh3D()

    def label(self, rgb: np.ndarray, points68: np.ndarray) -> np.ndarray | None:
        mesh = self._mesh.mesh(rgb, points68)
        return None if mesh is None else wflw_from_mesh(mesh[:, :2]).astype(np.float32)


# The 30 WFLW points the 68-point layout lacks, each placed from two shared points around it:
# odd jaw points between their even neighbours, the brows' lower edges from their upper edge's
# ends, the middle eyelid points between their neighbours, the pupils from the eye corners.
ANCHORS_98: dict[int, tuple[int, int]] = {
    **{k: (k - 1, k + 1) for k in range(1, 32, 2)},
    **{k: (33, 37) for k in (38, 39, 40, 41)}, **{k: (42, 46) for k in (47, 48, 49, 50)},
    62: (61, 63), 66: (65, 67), 70: (69, 71), 74: (73, 75), 96: (60, 64), 97: (68, 72),
}


def _similarity(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray):
    """The 2D similarity taking segment a0-a1 onto b0-b1, as a function of points."""
    va, vb = a1 - a0, b1 - b0
    za, zb = complex(*va), complex(*vb)
    k = zb / za if abs(za) > 1e-9 else 1.0

    def apply(p: np.ndarray) -> np.ndarray:
        z = complex(*(p - a0)) * k
        return b0 + np.array([z.real, z.imag])
    return apply


def consistent_98(mesh98: np.ndarray, points68: np.ndarray) -> np.ndarray:
    """98 WFLW labels whose 68 shared points are the 68-point teacher's and whose 30 others
    keep the mesh's shape relative to the teacher's points around them: one convention for
    both layouts (the mesh's jaw and brows otherwise differ from dlib's by ~0.07 interocular)."""
    out = np.zeros((98, 2))
    out[list(WFLW_TO_68)] = points68
    for k, (a, b) in ANCHORS_98.items():
        out[k] = _similarity(mesh98[a], mesh98[b], out[a], out[b])(mesh98[k])
    return out.astype(np.float32)


def disagreement(points98: np.ndarray, points68: np.ndarray) -> dict[str, float]:
    """Mesh-derived points against the 68-point teacher, per region, / the teacher's interocular."""
    return region_errors_68(as_68(points98), points68, LAYOUT_68)


def contact_sheet(cache: Path, records: list[FaceRecord], out: Path, n: int = 24, tile: int = 200) -> None:
    step = max(1, len(records) // n)
    tiles = [labelled_tile(read_rgb(cache / rec.image), rec.points_array(), LAYOUT_98, 1.3, tile)
             for rec in records[::step][:n]]
    write_image(out, grid(tiles, 6))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("cache/corpus"))
    parser.add_argument("--check", action="store_true", help="print agreement with the 68-point teacher "
                                                            "and write a contact sheet")
    parser.add_argument("--sheet", type=Path, default=Path("weights/wflw98_contact_sheet.jpg"))
    parser.add_argument("--consistent", action=argparse.BooleanOptionalAction, default=True,
                        help="the 68 shared points from the 68-point teacher, the other 30 placed around them "
                             "(default); --no-consistent keeps the mesh's own 98 points")
    parser.add_argument("--manifest", default="manifest.jsonl",
                        help="the 68-point manifest in --cache to relabel (e.g. manifest_eyes.jsonl: eyelid labels)")
    parser.add_argument("--out", default="manifest98.jsonl", help="the 98-point manifest written in --cache")
    args = parser.parse_args(argv)

    labeller = MeshLabeller()
    kept, stats, skipped = [], [], 0
    for rec in tqdm(read_manifest(args.cache / args.manifest), desc="face mesh", unit="face"):
        pts68 = rec.points_array()
        try:
            pts98 = labeller.label(read_rgb(args.cache / rec.image), pts68)
        except ImageReadError:
            pts98 = None
        if pts98 is None:
            skipped += 1
            continue
        d = disagreement(pts98, pts68)
        if d["all"] > MAX_DISAGREEMENT:
            skipped += 1
            continue
        stats.append(d)
        labels = consistent_98(pts98, pts68) if args.consistent else pts98
        kept.append(replace(rec, points=np.round(labels, 2).tolist(),
                            extra={**rec.extra, "mesh_vs_dlib": round(d["all"], 4)}))
    write_manifest(args.cache / args.out, kept)
    print(f"kept {len(kept)} faces, skipped {skipped} -> {args.cache / args.out}")
    if args.check and kept:
        print("\nmesh-derived WFLW vs dlib 68 (mean distance / interocular, corresponding points)")
        print("| group | mean | p90 |\n|---|---|---|")
        for key in ["all", *REGIONS_68]:
            v = np.array([s[key] for s in stats])
            print(f"| {key} | {v.mean():.4f} | {np.percentile(v, 90):.4f} |")
        contact_sheet(args.cache, kept, args.sheet)
        print(f"\ncontact sheet: {args.sheet}")


if __name__ == "__main__":
    main()
