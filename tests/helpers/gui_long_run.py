"""Drive the real window (main.py's GUI path) over a long clip, in its own process.

    python tests/helpers/gui_long_run.py OUT.json -- <main.py arguments>

Records sys.getrefcount(None) and sys.getrefcount(True) as frames reach the
window, then writes them, the frame count and main()'s exit status to
OUT.json. A PySide6 build that drops references (6.12.0) aborts this
process with `none_dealloc` long before the end: the caller sees exit 134.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import main as app_main  # noqa: E402
from app.main_window import MainWindow  # noqa: E402

samples: list[tuple[int, int, int]] = []
original = MainWindow.on_frame


def counting_on_frame(self, image, stats) -> None:
    original(self, image, stats)
    if self.presenter.frames_shown % 100 == 0:
        samples.append((self.presenter.frames_shown, sys.getrefcount(None), sys.getrefcount(True)))


MainWindow.on_frame = counting_on_frame

if __name__ == "__main__":
    out = Path(sys.argv[1])
    args = sys.argv[sys.argv.index("--") + 1:]
    code = app_main.main(args)
    out.write_text(json.dumps({"exit": code, "samples": samples}))
    sys.exit(code)
