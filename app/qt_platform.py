"""Before the QApplication exists: can Qt open a window here? Say why not in one line.

Two failures used to abort the app with a Qt core dump instead of a message:
- Qt's xcb (X11) platform plugin needs system libraries that a minimal Linux
  install lacks (libxcb-cursor0 since Qt 6.5, libxcb-icccm4, ...). Qt names
  only the first missing one, and its message pointed into OpenCV's bundled
  Qt plugin folder (`cv2/qt/plugins`), which misled.
- No display at all (a server, an ssh session).
`check_can_open_window()` finds both first and raises `PlatformError` with
the Debian/Ubuntu packages to install.

OpenCV's wheel (which mediapipe requires, in its non-headless form) points
QT_QPA_PLATFORM_PLUGIN_PATH at its own Qt build's plugins when cv2 is
imported; `use_pyside_plugins()` undoes that so PySide6 always loads its own.
"""
from __future__ import annotations

import ctypes
import os
import sys
from typing import Callable

from core.errors import MobileFANError

# Shared libraries Qt's xcb platform plugin links against -> Debian/Ubuntu package.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libdbus-1.so.3": "libdbus-1-3",
}


class PlatformError(MobileFANError):
    """Qt cannot open a window on this machine; the message says what to do."""


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        return False


def missing_xcb_packages(loads: Callable[[str], bool] = _loads) -> list[str]:
    """Debian/Ubuntu packages whose libraries the dynamic loader cannot find."""
    return sorted({pkg for soname, pkg in XCB_LIBRARIES.items() if not loads(soname)})


def will_use_xcb(env: dict[str, str] | os._Environ = os.environ, platform: str = sys.platform) -> bool:
    """Qt on Linux picks xcb unless told otherwise or a Wayland session is running."""
    if not platform.startswith("linux"):
        return False
    requested = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if requested:
        return requested == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def check_can_open_window(env: dict[str, str] | os._Environ = os.environ, platform: str = sys.platform,
                          loads: Callable[[str], bool] = _loads) -> None:
    if not will_use_xcb(env, platform):
        return
    if not env.get("DISPLAY"):
        raise PlatformError("no display to open a window on (DISPLAY is not set): run on a desktop, "
                            "or use --headless to process without a window")
    missing = missing_xcb_packages(loads)
    if missing:
        raise PlatformError("the window needs system libraries that are missing; install them with: "
                            f"sudo apt install {' '.join(missing)}")


def use_pyside_plugins(env: dict[str, str] | os._Environ = os.environ) -> None:
    """Drop Qt plugin paths that point into OpenCV's bundled Qt (set when cv2 is imported)."""
    for key in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        value = env.get(key, "")
        if value and f"{os.sep}cv2{os.sep}" in value + os.sep:
            del env[key]


def pyside_loses_references(calls: int = 200) -> bool:
    """True for a PySide6 build that drops a reference to None on every Qt call returning void.

    PySide6 6.12.0 does (measured: one per call); the window makes ~220 such
    calls a frame, so CPython aborts with `none_dealloc` after ~15 s of video.
    QImage.fill needs no QApplication, so this runs before one exists.
    """
    from PySide6.QtGui import QImage

    image = QImage(1, 1, QImage.Format.Format_RGB32)
    before = sys.getrefcount(None)
    for _ in range(calls):
        image.fill(0)
    return before - sys.getrefcount(None) > calls // 2


def check_pyside_release() -> None:
    if pyside_loses_references():
        import PySide6
        raise PlatformError(f"PySide6 {PySide6.__version__} has a reference-counting bug that aborts the "
                            "window after a few seconds; install the pinned release: "
                            "python -m pip install -r requirements.txt")
