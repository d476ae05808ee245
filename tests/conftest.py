"""Shared fixtures: real face images from pip packages, a face video made from
one, and a small untrained model (tests must not depend on trained weights)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import ModelConfig  # noqa: E402
from core.images import write_image  # noqa: E402
from core.model import MobileFAN, save_checkpoint  # noqa: E402
from core.synthetic_video import astronaut_rgb, make_face_video  # noqa: E402

# Window settings of test runs go to a throw-away file, never the user's (inherited by subprocesses).
os.environ.setdefault("MOBILEFAN_SETTINGS", str(Path(os.environ.get("TMPDIR", "/tmp"))
                                                / f"mobilefan-test-settings-{os.getpid()}.ini"))

# The astronaut's nose in skimage.data.astronaut() (512x512), read off the
# photo by eye, independent of any code under test.
ASTRONAUT_FACE_CENTRE = (224, 125)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """RGB, as every frame is inside the app."""
    return astronaut_rgb()


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory, astronaut) -> Path:
    """A folder of photos: one face (jpg), two faces (png), no face (ppm), and a corrupt file."""
    d = tmp_path_factory.mktemp("photos")
    write_image(d / "astronaut.jpg", astronaut)
    write_image(d / "pair.png", two_faces(astronaut))
    from skimage import data
    write_image(d / "coffee.ppm", data.coffee())
    (d / "broken.jpg").write_bytes(b"not really a jpeg")
    return d


def two_faces(astronaut: np.ndarray) -> np.ndarray:
    return np.hstack([astronaut, astronaut[:, ::-1]])


@pytest.fixture(scope="session")
def face_video(tmp_path_factory) -> Path:
    return make_face_video(tmp_path_factory.mktemp("video") / "face.mp4", frames=90, size=(480, 360))


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """An untrained, small 68-point MobileFAN saved in the app's checkpoint format."""
    path = tmp_path_factory.mktemp("weights") / "tiny68.pt"
    torch_seed()
    save_checkpoint(MobileFAN(ModelConfig(width=0.35, deconv_channels=32)), path)
    return path


def torch_seed() -> None:
    import torch
    torch.manual_seed(0)
