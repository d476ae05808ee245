"""Turns the pipeline's results into what is seen: the video with its notice, the read-out
under it and the live plots. Knows nothing of controls, recording or the worker."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from app.processing import SourceInfo, Stats
from app.widgets import LivePlots, PlotSpec, VideoView
from core.pipeline import STAGES


def status_text(stats: Stats) -> str:
    """The read-out under the video, in short lines that fit the default window (the
    dropped-frame count used to be cut off at its end)."""
    stages = " ".join(f"{k} {stats.stages_ms.get(k, 0):.1f}" for k in STAGES)
    faces = f"faces {stats.faces}" + (f" of {stats.faces_found} found" if stats.face_limit_hit else "")
    if stats.pose_deg is not None:
        pitch, yaw, roll = stats.pose_deg
        faces += f" | yaw {yaw:+.0f} pitch {pitch:+.0f} roll {roll:+.0f}"
    if stats.still:
        return (f"photo {stats.frame_name} | processed in {sum(stats.stages_ms.values()):.0f} ms\n"
                f"{faces}\nstage ms: {stages}")
    return (f"capture {stats.capture_fps:.1f} fps | processing {stats.process_fps:.1f} fps | "
            f"dropped {stats.dropped} | latency {stats.latency_ms:.1f} ms\n"
            f"{faces} | blinks {stats.blinks}\nstage ms: {stages}")


class FramePresenter:
    """The video view, the status read-out and the plots, fed one processed frame at a time."""

    def __init__(self) -> None:
        self.video = VideoView()
        self.video.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.video.show_message("Starting…")
        self.stats_label = QLabel("—")
        self.stats_label.setStyleSheet("font-family: monospace;")
        self.stats_label.setWordWrap(True)        # never cut off: a narrow window wraps it
        self.plot = LivePlots(
            {"fps": PlotSpec("processing (frames/s)"), "latency": PlotSpec("latency (ms)"),
             "head": PlotSpec("head (degrees)", (-60, 60)), "eyes": PlotSpec("eye openness (EAR)", (0, 0.5))},
            {"fps": ("fps", "#6cdc6c"), "latency": ("latency", "#ffb050"),
             "yaw": ("head", "#ff6b6b"), "pitch": ("head", "#6bd0ff"), "roll": ("head", "#f5d76e"),
             "left eye": ("eyes", "#c39bff"), "right eye": ("eyes", "#7dffb0")})
        self.plot.setMinimumHeight(260)
        self.plot.setMaximumHeight(340)
        self.frames_shown = 0
        self.last_stats: Stats | None = None

    def show_frame(self, image: QImage, stats: Stats) -> None:
        self.frames_shown += 1
        self.last_stats = stats
        notice = []
        if stats.paused:
            notice.append("Paused")
        if stats.faces == 0 and stats.landmarks_on:
            notice.append("No face found")
        self.video.show_image(image, " · ".join(notice))
        self.stats_label.setText(status_text(stats))
        if not stats.still:
            pitch, yaw, roll = stats.pose_deg or (None, None, None)
            left, right = stats.ears or (None, None)
            self.plot.add(**{"fps": stats.process_fps, "latency": stats.latency_ms, "yaw": yaw, "pitch": pitch,
                             "roll": roll, "left eye": left, "right eye": right})

    def source_opening(self, spec: str) -> None:
        self.video.show_message(f"Opening {spec}…")
        self.frames_shown = 0

    def source_opened(self, info: SourceInfo) -> None:
        self.plot.restart()
        self.plot.setVisible(not info.still)

    def show_message(self, text: str) -> None:
        """Text where the video would be (the source failed before any frame)."""
        self.video.show_message(text)
