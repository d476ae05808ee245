"""Small widgets: the video view and the live plots."""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


class VideoView(QWidget):
    """The latest overlay frame scaled to fit, with an optional notice over it
    ("No face found", "Paused"), or a message in its place before any frame."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._image: QImage | None = None
        self._message = ""
        self._notice = ""

    def show_image(self, image: QImage, notice: str = "") -> None:
        self._image = image
        self._notice = notice
        self._message = ""
        self.update()

    def show_message(self, text: str) -> None:
        """Text in place of the video (no frame yet, or the source failed)."""
        self._image = None
        self._message = text
        self.update()

    @property
    def notice(self) -> str:
        return self._notice

    @property
    def message(self) -> str:
        return self._message

    def current_image(self) -> QImage | None:
        return self._image

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt naming
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#111"))
        if self._image is not None and not self._image.isNull():
            size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x, y = (self.width() - size.width()) / 2, (self.height() - size.height()) / 2
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(QRectF(x, y, size.width(), size.height()), self._image)
            if self._notice:
                self._draw_notice(painter, self._notice)
        elif self._message:
            painter.setPen(QColor("#ddd"))
            font = QFont(painter.font())
            font.setPointSizeF(12)
            painter.setFont(font)
            painter.drawText(self.rect().adjusted(20, 20, -20, -20),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
        painter.end()

    def _draw_notice(self, painter: QPainter, text: str) -> None:
        font = QFont(painter.font())
        font.setPointSizeF(16)
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        w, h = metrics.horizontalAdvance(text) + 28, metrics.height() + 14
        box = QRectF((self.width() - w) / 2, 16, w, h)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor("#ffd27a"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= value (an axis top that changes rarely)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        top = step * 10 ** exponent
        if top >= value:
            return float(top)
    return float(10 ** (exponent + 1))


@dataclass(frozen=True)
class PlotSpec:
    """One plot: its value axis label, and a fixed range or None (0 to a 1-2-5 ceiling)."""

    label: str
    fixed: tuple[float, float] | None = None


class LivePlots(pg.GraphicsLayoutWidget):
    """Rolling plots on a grid, one labelled value axis each, sharing a time axis in seconds
    since the source was opened; each plot may draw several series.

    Redrawn at most `max_hz` times a second, and the axes move in steps (the
    time axis sweeps forward half a window at a time; a value axis jumps to
    the next 1-2-5 ceiling) instead of rescaling at every redraw: each axis
    rescale re-lays out its tick labels, dozens of Qt calls, and with the
    pinned PySide6 each leaves ~6 references to None behind (harmless, but
    a drift; tests/test_gui.py measures it).
    """

    def __init__(self, plots: dict[str, PlotSpec], series: dict[str, tuple[str, str]], columns: int = 2,
                 window_s: float = 20.0, max_hz: float = 8.0) -> None:
        """`plots`: key -> PlotSpec; `series`: name -> (plot key, colour). Series named like a
        plot key share its name in the legend only when a plot has several."""
        super().__init__()
        self.setBackground("#1b1b1b")
        self.window_s = window_s
        self._min_interval = 1.0 / max_hz
        self._last_draw = 0.0
        self._t0: float | None = None
        self._x_start = 0.0
        self._t: deque[float] = deque()
        self._values: dict[str, deque[float]] = {name: deque() for name in series}
        self._series = series
        self._specs = plots
        self._tops: dict[str, float] = {}
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        for i, (key, spec) in enumerate(plots.items()):
            plot = self.addPlot(row=i // columns, col=i % columns)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("left", spec.label)
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.setLabel("bottom", "time (s)")
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.disableAutoRange()
            plot.setXRange(0, window_s, padding=0)
            plot.setYRange(*(spec.fixed or (0, 1)), padding=0)
            if sum(1 for k, _ in series.values() if k == key) > 1:
                plot.addLegend(offset=(-5, 5), labelTextSize="8pt", colCount=3)
            self.plots[key] = plot
        for name, (key, colour) in series.items():
            self.curves[name] = self.plots[key].plot(pen=pg.mkPen(colour, width=2), name=name)

    def restart(self) -> None:
        """A new source: time starts at zero again."""
        self._t0 = None
        self._x_start = 0.0
        self._t.clear()
        for values in self._values.values():
            values.clear()
        for plot in self.plots.values():
            plot.setXRange(0, self.window_s, padding=0)
        for curve in self.curves.values():
            curve.setData([], [])

    def add(self, **values: float) -> None:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        t = now - self._t0
        self._t.append(t)
        for name, series in self._values.items():
            value = values.get(name)
            series.append(float("nan") if value is None else float(value))
        if t > self._x_start + self.window_s:
            self._x_start += self.window_s / 2 * math.ceil((t - self._x_start - self.window_s) / (self.window_s / 2))
            for plot in self.plots.values():
                plot.setXRange(self._x_start, self._x_start + self.window_s, padding=0)
        while self._t and self._t[0] < self._x_start:
            self._t.popleft()
            for series in self._values.values():
                series.popleft()
        if now - self._last_draw >= self._min_interval:
            self._last_draw = now
            self._redraw()

    def _redraw(self) -> None:
        xs = np.fromiter(self._t, float)
        peaks: dict[str, float] = {}
        for name, curve in self.curves.items():
            ys = np.fromiter(self._values[name], float)
            curve.setData(xs, ys, connect="finite")
            key = self._series[name][0]
            finite = ys[np.isfinite(ys)]
            if len(finite):
                peaks[key] = max(peaks.get(key, 0.0), float(finite.max()))
        for key, peak in peaks.items():
            if self._specs[key].fixed is not None:
                continue
            top = nice_ceiling(peak * 1.05)
            if self._tops.get(key) != top:
                self._tops[key] = top
                self.plots[key].setYRange(0, top, padding=0)

    def points(self) -> int:
        return len(self._t)
