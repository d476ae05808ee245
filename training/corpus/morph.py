"""New identities from the ones we have: face morphs of two training people, exactly labelled.

    python -m training.corpus.morph --cache cache/corpus2 --count 600 \
        --sheet weights/morph_contact_sheet.jpg

The people learning curve (weights/MODEL_CARD.md, round 6) is flat over the few still photos a
package gives, and says a curve worth drawing needs thousands of identities; the teacher issue asks
whether synthesising identities is the next lever. A morph of two people is a face that is neither:
both faces are warped, piecewise affinely, onto a shape between their two label sets (the 68
labels, the face mesh's forehead outline above the brows, the patch border), their skin matched in
colour, and cross-dissolved inside the face (feathered outside it, where the first face's hair and
background stay). The label of the morph is that in-between shape: exact by construction, since
both faces were warped onto it.

Pairs: training still photos (no video frames, no pose-synthesised views), interocular at least
`--min-eyes` px, yaw within +-25 degrees and within 15 of each other (the face mesh's, recorded by
the corpus builder), of different people (or two faces of one group photo). Writes
`<manifest stem>_morph.jsonl` beside `--manifest` (default `manifest_synth.jsonl`): every record of
it plus the morphs, saved as face-centred JPEGs under `morph/`, their person ids `morph:<k>` in
groups of `--group` (the trainer weights people by 1/sqrt(faces), so the group size sets the
morphs' share of the draws: printed at the end). Validation is never touched.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial import Delaunay
from tqdm import tqdm

from core.images import read_rgb, write_image
from core.landmarks import LAYOUT_68, interocular
from training.contact_sheet import grid, labelled_tile
from training.corpus.face_mesh import FaceMesh3D
from training.corpus.manifest import FaceRecord, read_manifest, write_manifest
from training.corpus.pack import pack_record
from training.pose_synthesis import border, face_oval, signed_areas, warp_triangles

log = logging.getLogger(__name__)
MAX_YAW, MAX_YAW_GAP = 25.0, 15.0


@dataclass(frozen=True)
class MorphFace:
    """A face ready to morph: its face-centred patch, its 68 labels and forehead outline in it."""
    record: FaceRecord
    patch: np.ndarray          # RGB
    points: np.ndarray         # (68, 2)
    forehead: np.ndarray       # (K, 2): the mesh's outline vertices above the brows, fixed order


def forehead_vertices() -> list[int]:
    """The face oval's vertices that lie above the brows on a frontal face (MediaPipe numbering):
    the upper half of the oval, by the canonical mesh's order (10 is the top of the forehead)."""
    upper = (10, 338, 297, 332, 284, 251, 21, 54, 103, 67, 109)
    assert set(upper) <= set(face_oval())
    return list(upper)


def prepare(rgb: np.ndarray, record: FaceRecord, mesh: np.ndarray, face_px: int = 200) -> MorphFace:
    patch_bgr, packed = pack_record(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), record, margin=2.0, face_px=face_px)
    k = float(packed.extra["packed_scale"])
    shift = record.points_array()[0] * k - packed.points_array()[0]
    forehead = mesh[forehead_vertices(), :2] * k - shift
    return MorphFace(record, cv2.cvtColor(patch_bgr, cv2.COLOR_BGR2RGB), packed.points_array().astype(np.float64),
                     forehead)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    matrix, _ = cv2.estimateAffinePartial2D(src.astype(np.float32), dst.astype(np.float32), method=cv2.LMEDS)
    return matrix


def morph(a: MorphFace, b: MorphFace, t: float) -> tuple[np.ndarray, np.ndarray]:
    """`a` and `b` morphed at `t` (0: a, 1: b) in `a`'s patch; returns (RGB image, 68 labels)."""
    h, w = a.patch.shape[:2]
    to_a = similarity(b.points, a.points)
    b_patch = cv2.warpAffine(b.patch, to_a, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    move = lambda p: p @ to_a[:, :2].T + to_a[:, 2]
    fixed = border(w, h, 8)
    src_a = np.vstack([a.points, a.forehead, fixed])
    src_b = np.vstack([move(b.points), move(b.forehead), fixed])
    target = (1 - t) * src_a + t * src_b
    triangles = Delaunay(target).simplices
    facing = np.sign(signed_areas(target, triangles))
    keep = (np.sign(signed_areas(src_a, triangles)) == facing) & (np.sign(signed_areas(src_b, triangles)) == facing)
    triangles = triangles[keep]
    order = np.arange(len(triangles))
    warped_a = warp_triangles(a.patch, src_a, target, triangles, order, a.patch.copy())
    warped_b = warp_triangles(b_patch, src_b, target, triangles, order, b_patch.copy())

    size = interocular(target[:68], LAYOUT_68) * 2.2          # about the face's width
    # The dissolve stops short of the mesh's forehead outline, which often lies at or in the hair: above
    # it, b's hair over a's forehead would leave a band.
    centre = target[:68].mean(axis=0)
    brow_line = centre + 0.6 * (target[68:68 + len(a.forehead)] - centre)
    outline = cv2.convexHull(np.round(np.vstack([target[:68], brow_line])).astype(np.int32))
    face = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(face, outline, 1)
    inside = face > 0
    if inside.sum() > 50:                                        # b's skin tone and contrast made a's
        fa, fb = warped_a[inside].astype(np.float64), warped_b[inside].astype(np.float64)
        matched = (warped_b.astype(np.float64) - fb.mean(0)) * (fa.std(0) / np.maximum(fb.std(0), 1.0)) + fa.mean(0)
        warped_b = np.clip(matched, 0, 255).astype(np.uint8)
    grow = max(3, int(round(0.08 * size)))
    mask = cv2.dilate(face, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    mask = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(1.0, 0.05 * size))[..., None] * t
    out = warped_a.astype(np.float32) * (1 - mask) + warped_b.astype(np.float32) * mask
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), target[:68].astype(np.float32)


def candidates(records: list[FaceRecord], min_eyes: float) -> list[FaceRecord]:
    return [r for r in records if r.split == "train" and len(r.points) == 68 and "frames" not in Path(r.image).parts
            and not r.source.startswith(("synth:", "morph:")) and abs(float(r.extra.get("yaw_mesh", 90.0))) <= MAX_YAW
            and interocular(r.points_array(), LAYOUT_68) >= min_eyes]


def may_pair(a: FaceRecord, b: FaceRecord) -> bool:
    """Two different people: different person ids, or two faces of one group photo."""
    different = a.person != b.person or (a.image == b.image and a.points != b.points)
    return different and abs(float(a.extra["yaw_mesh"]) - float(b.extra["yaw_mesh"])) <= MAX_YAW_GAP


def morph_corpus(cache: Path, count: int, group: int, seed: int, min_eyes: float, manifest: str,
                 sheet: Path | None = None) -> Path:
    records = read_manifest(cache / manifest)
    base = read_manifest(cache / "manifest.jsonl")
    pool = candidates(base, min_eyes)
    pairs = [(i, j) for i in range(len(pool)) for j in range(len(pool)) if i != j and may_pair(pool[i], pool[j])]
    if not pairs:
        raise ValueError("no two training faces to morph")
    rng = np.random.default_rng(seed)
    chosen = [pairs[k] for k in rng.choice(len(pairs), size=min(count, len(pairs)), replace=False)]
    out_dir = cache / "morph"
    out_dir.mkdir(exist_ok=True)
    mesher = FaceMesh3D()
    prepared: dict[int, MorphFace | None] = {}

    def face(i: int) -> MorphFace | None:
        if i not in prepared:
            rgb = read_rgb(cache / pool[i].image)
            mesh = mesher.mesh(rgb, pool[i].points_array())
            prepared[i] = None if mesh is None else prepare(rgb, pool[i], mesh)
        return prepared[i]

    added: list[FaceRecord] = []
    tiles: list[np.ndarray] = []
    for n, (i, j) in enumerate(tqdm(chosen, desc="morphs", unit="face")):
        a, b = face(i), face(j)
        if a is None or b is None:
            continue
        t = float(rng.uniform(0.3, 0.7))
        image, labels = morph(a, b, t)
        name = f"morph/{n:05d}.jpg"
        cv2.imwrite(str(cache / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        yaw = (1 - t) * float(a.record.extra["yaw_mesh"]) + t * float(b.record.extra["yaw_mesh"])
        added.append(replace(a.record, image=name, points=np.round(labels, 2).tolist(), box=None, detector_box=None,
                             source=f"morph:{a.record.source}+{b.record.source}", license="derived: see both sources",
                             person=f"morph:{len(added) // group}",
                             extra={"morph_of": [a.record.image, b.record.image], "morph_people": [a.record.person,
                                    b.record.person], "morph_t": round(t, 3), "yaw_mesh": round(yaw, 1)}))
        if sheet is not None and len(tiles) < 48:
            tiles.append(labelled_tile(image, labels, LAYOUT_68, 1.6, 160, upright=False))
    mesher.close()
    path = cache / f"{Path(manifest).stem}_morph.jsonl"
    write_manifest(path, records + added)
    share = morph_share(records + added)
    log.info("%d morphs of %d training faces -> %s (%.0f%% of the trainer's people-weighted draws)",
             len(added), len(pool), path, 100 * share)
    if sheet is not None and tiles:
        write_image(sheet, grid(tiles, 8), 85)
    return path


def morph_share(records: list[FaceRecord]) -> float:
    """The morphs' share of the trainer's draws, by the trainer's own person weights."""
    from training.train import person_weights          # torch and the trainer, only when asked
    train = [r for r in records if r.split == "train"]
    weights = person_weights(train)
    return float(sum(w for w, r in zip(weights, train) if r.person.startswith("morph:")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("cache/corpus2"))
    parser.add_argument("--manifest", default="manifest_synth.jsonl", help="the manifest (in --cache) to add morphs to")
    parser.add_argument("--count", type=int, default=600, help="morphs to make")
    parser.add_argument("--group", type=int, default=64, help="morphs per person id (sets their share of draws)")
    parser.add_argument("--min-eyes", type=float, default=25.0, help="smallest outer-eye distance of a face, px")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sheet", type=Path, help="write a contact sheet of morphs here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    morph_corpus(args.cache, args.count, args.group, args.seed, args.min_eyes, args.manifest, args.sheet)


if __name__ == "__main__":
    main()
