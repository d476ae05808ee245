"""Save a screenshot of the real window, offscreen (for the README and bug reports).

    QT_QPA_PLATFORM=offscreen python -m app.screenshot assets/screenshot.png --source clip.mp4
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from core.config import PipelineConfig  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--source", required=True, help="video or image (a camera works too)")
    parser.add_argument("--frames", type=int, default=90, help="frames to let pass before the shot")
    parser.add_argument("--points", type=int, default=68)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    window = MainWindow(PipelineConfig(points=args.points, detector_range="full"))
    window.resize(1280, 760)
    window.show()
    window.start(args.source)
    deadline = time.monotonic() + 120
    while window.frames_shown < args.frames and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    window.grab().save(str(args.out))
    window.close()
    print(f"saved {args.out} after {window.frames_shown} frames")


if __name__ == "__main__":
    main()
