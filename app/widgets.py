"""Small widgets: the video view and the live FPS/latency plot."""
from __future__ import annotations

import time
from collections import deque

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy


class VideoView(QLabel):
    """Shows the latest overlay frame scaled to fit, or a message in its place."""

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background: #111; color: #ddd; font-size: 15px;")
        self.setWordWrap(True)
        self._image: QImage | None = None

    def show_image(self, image: QImage) -> None:
        self._image = image
        self._render()

    def show_message(self, text: str) -> None:
        self._image = None
        self.setPixmap(QPixmap())
        self.setText(text)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._render()

    def _render(self) -> None:
        if self._image is None:
            return
        pix = QPixmap.fromImage(self._image).scaled(
            self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(pix)


class StatsPlot(pg.PlotWidget):
    """Processing FPS and end-to-end latency over the last `window_s` seconds."""

    def __init__(self, window_s: float = 10.0) -> None:
        super().__init__()
        self.window_s = window_s
        self.setBackground("#1b1b1b")
        self.setMaximumHeight(170)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setLabel("bottom", "seconds ago")
        self.addLegend(offset=(5, 5))
        self._t: deque[float] = deque()
        self._fps: deque[float] = deque()
        self._lat: deque[float] = deque()
        self.fps_curve = self.plot(pen=pg.mkPen("#6cdc6c", width=2), name="FPS (processing)")
        self.lat_curve = self.plot(pen=pg.mkPen("#ffb050", width=2), name="latency (ms)")

    def add(self, fps: float, latency_ms: float) -> None:
        now = time.monotonic()
        self._t.append(now)
        self._fps.append(fps)
        self._lat.append(latency_ms)
        while self._t and now - self._t[0] > self.window_s:
            self._t.popleft()
            self._fps.popleft()
            self._lat.popleft()
        xs = [t - now for t in self._t]
        self.fps_curve.setData(xs, list(self._fps))
        self.lat_curve.setData(xs, list(self._lat))

    def points(self) -> int:
        return len(self._t)
