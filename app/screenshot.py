"""Save a screenshot of the real window (for the README and bug reports).

    Xvfb :99 -screen 0 1600x1000x24 &
    DISPLAY=:99 python -m app.screenshot assets/screenshot.png --source clip.mp4

Run it on a real display (or Xvfb), not offscreen: the shot is taken from
the X server's screen, so it shows what a user sees, start-up problems
included. The window plays the video at its own speed, as it would for a
user, and the shot is taken after `--seconds`.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--source", required=True, help="video or image (a camera works too)")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long to play before the shot")
    parser.add_argument("--points", type=int, default=68)
    parser.add_argument("--size", default="1280x780", help="window size, WxH")
    args = parser.parse_args(argv)

    from app.qt_platform import PlatformError, check_can_open_window, use_pyside_plugins
    use_pyside_plugins()
    try:
        check_can_open_window()
    except PlatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from core.config import PipelineConfig
    from core.native_logs import set_quiet

    set_quiet(True)
    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(Path("/tmp") / "mobilefan-screenshot.ini"), QSettings.Format.IniFormat)
    settings.clear()                                  # a first start: default settings, no personal paths
    window = MainWindow(PipelineConfig(points=args.points), settings=settings)
    window.controls.csv_path.setText("landmarks.csv")          # no machine path in the picture
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.move(0, 0)
    window.show()
    window.start(args.source)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    shot = app.primaryScreen().grabWindow(0, 0, 0, window.frameGeometry().width(), window.frameGeometry().height())
    shot.save(str(args.out))
    stats = window.presenter.last_stats
    window.close()
    print(f"saved {args.out} after {window.presenter.frames_shown} frames"
          + (f" ({stats.process_fps:.0f} fps processing, {stats.dropped} dropped)" if stats else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
