"""Where results go, checked before anything is opened: no run ever destroys a user's file.

- A CSV or overlay path may not be an input (or, for overlays, lie inside an
  input folder, where overlays would mix with or replace the photos).
- An existing CSV, or existing overlay images, are replaced only when the
  user says so (`overwrite`); the window picks a fresh numbered name instead.
- Folders must be writable: tested by creating a file, not guessed from
  permission bits.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.errors import MobileFANError
from core.sources import IMAGE_EXTENSIONS, input_files, is_camera_spec

VIDEO_OVERLAY_EVERY = 10     # a video's overlays: one frame in ten is plenty to check by eye


class OutputError(MobileFANError, ValueError):
    """An output path that would destroy or mix with the user's files, or cannot be written."""


def overlay_name(frame_name: str, index: int, still: bool) -> str:
    """`a.jpg` -> `a.jpg.jpg`: the original extension stays, so `a.jpg` and `a.png` never collide."""
    return f"{frame_name}.jpg" if still else f"{frame_name}_{index:06d}.jpg"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _check_writable_folder(folder: Path, what: str) -> None:
    """The folder (or its nearest existing ancestor, if it is to be created) accepts a new file."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{what} {folder}: {probe} is a file, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".mobilefan-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"{what} {folder}: cannot write there ({exc.strerror or exc})") from None


def next_free_path(path: Path) -> Path:
    """`landmarks.csv` if free, else `landmarks-2.csv`, `landmarks-3.csv`, ..."""
    if not path.exists():
        return path
    n = 2
    while (candidate := path.with_name(f"{path.stem}-{n}{path.suffix}")).exists():
        n += 1
    return candidate


def check_csv_path(csv_path: Path, source_spec: str, overwrite: bool) -> None:
    inputs = [] if is_camera_spec(source_spec) else input_files(source_spec)
    if csv_path.exists() and csv_path.is_dir():
        raise OutputError(f"--csv {csv_path} is a folder; name a file")
    for item in inputs:
        if _same_file(csv_path, item) or csv_path.resolve() == item.resolve():
            raise OutputError(f"--csv {csv_path} is the input {item}; writing it would destroy the input")
    if csv_path.exists() and not overwrite:
        raise OutputError(f"--csv {csv_path} already exists; pass --overwrite to replace it, "
                          f"or choose another name")
    _check_writable_folder(csv_path.parent, "--csv")


def check_overlay_dir(overlay_dir: Path, source_spec: str, overwrite: bool) -> None:
    if is_camera_spec(source_spec):
        inputs, folder = [], None
    else:
        source = Path(source_spec).expanduser()
        inputs = input_files(source)
        # Photos live in a folder the overlays must stay out of; a video's folder is no such place.
        folder = source if source.is_dir() else source.parent if source.suffix.lower() in IMAGE_EXTENSIONS \
            else None
    if overlay_dir.exists() and not overlay_dir.is_dir():
        raise OutputError(f"--save-overlay {overlay_dir} is a file; name a folder")
    if folder is not None and _inside(overlay_dir, folder):
        raise OutputError(f"--save-overlay {overlay_dir} is inside the input folder {folder}; "
                          f"choose a folder outside it so the photos are never touched")
    for item in inputs:
        if _same_file(overlay_dir, item):
            raise OutputError(f"--save-overlay {overlay_dir} is the input {item}")
    if overlay_dir.is_dir() and not overwrite:
        still = folder is not None
        names = {overlay_name(p.name, 0, True) for p in inputs} if still else set()
        existing = [p.name for p in overlay_dir.iterdir()
                    if p.name in names or (not still and any(p.name.startswith(f"{i.name}_") for i in inputs))]
        if existing:
            raise OutputError(f"--save-overlay {overlay_dir} already holds overlays of these inputs "
                              f"(e.g. {sorted(existing)[0]}); pass --overwrite to replace them, "
                              f"or choose another folder")
    _check_writable_folder(overlay_dir, "--save-overlay")


def check_outputs(source_spec: str, csv_path: Path | None, overlay_dir: Path | None,
                  overwrite: bool = False) -> None:
    """Every output checked before any file is opened; raises OutputError."""
    if csv_path is not None:
        check_csv_path(csv_path, source_spec, overwrite)
    if overlay_dir is not None:
        check_overlay_dir(overlay_dir, source_spec, overwrite)
