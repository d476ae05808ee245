"""Capture-to-display latency and frame rates of the real window (offscreen).

    python -m bench.gui_latency [--video FILE] [--frames 300] [--runtime onnxruntime]

The video plays at its own frame rate, like a camera; the table shows
whether processing keeps up (processing FPS vs capture FPS, frames dropped)
and the latency from capture hand-over to the overlay image being ready.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from core.config import PipelineConfig  # noqa: E402
from core.synthetic_video import make_face_video  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--runtime", default=PipelineConfig.runtime)
    args = parser.parse_args(argv)
    video = args.video or make_face_video(Path(tempfile.mkdtemp()) / "astronaut.mp4", frames=args.frames)

    app = QApplication.instance() or QApplication([])
    window = MainWindow(PipelineConfig(runtime=args.runtime, detector_range="full"))
    window.show()
    latencies, process_fps, capture_fps = [], [], []
    last = 0
    window.start(str(video))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and window.presenter.frames_shown < args.frames - 5:
        app.processEvents()
        if window.presenter.frames_shown != last and window.presenter.last_stats is not None:
            last = window.presenter.frames_shown
            s = window.presenter.last_stats
            if s.processed > 10:
                latencies.append(s.latency_ms)
                process_fps.append(s.process_fps)
                capture_fps.append(s.capture_fps)
        time.sleep(0.001)
    stats = window.presenter.last_stats
    window.close()
    window.deleteLater()          # destroy Qt objects before the interpreter tears down
    app.processEvents()
    lat = np.array(latencies)
    print(f"video: {video.name}, runtime {args.runtime}\n")
    print("| capture FPS | processing FPS | frames shown | dropped | latency p50 ms | latency p95 ms |")
    print("|---|---|---|---|---|---|")
    print(f"| {np.median(capture_fps):.1f} | {np.median(process_fps):.1f} | {window.presenter.frames_shown} | "
          f"{stats.dropped if stats else 0} | {np.percentile(lat, 50):.1f} | {np.percentile(lat, 95):.1f} |")


if __name__ == "__main__":
    main()
