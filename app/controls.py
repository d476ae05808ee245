"""The controls panel beside the video, and how its choices persist between runs.

It only says what the user chose, through signals; the window decides what
that means for the worker. Every choice it remembers (smoothing, what is
drawn, loop, interval, CSV path, landmark layout, model size) is restored
from and saved to QSettings here.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from app.settings import setting
from core.config import PipelineConfig, SmoothingConfig, default_weights_path
from core.overlay import OverlayOptions

DRAWN = ("points", "lines", "boxes", "axes")


def default_csv() -> str:
    return str(Path.cwd() / "landmarks.csv")


class ControlPanel(QWidget):
    camera_requested = Signal(str)            # a camera index
    open_file_requested = Signal()
    open_folder_requested = Signal()
    pause_toggled = Signal(bool)
    step_requested = Signal(int)              # +1 next frame / photo, -1 previous photo
    loop_changed = Signal(bool)
    interval_changed = Signal(object)         # seconds between photos, or None: on request
    model_changed = Signal(int, str)          # landmark points, model size
    smoothing_changed = Signal(object)        # SmoothingConfig
    overlay_changed = Signal(object)          # OverlayOptions
    record_clicked = Signal(bool)             # the record button's new state
    browse_csv_requested = Signal()

    def __init__(self, config: PipelineConfig) -> None:
        super().__init__()
        self._smoothing = config.smoothing     # the fields this panel does not show come from here
        col = QVBoxLayout(self)
        col.addWidget(self._source_group())
        col.addWidget(self._playback_group())
        col.addWidget(self._model_group(config))
        col.addWidget(self._smoothing_group(config.smoothing))
        col.addWidget(self._show_group())
        col.addWidget(self._recording_group())
        col.addStretch(1)
        for button in self.findChildren(QPushButton) + self.findChildren(QCheckBox):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # keys stay with the window's shortcuts

    # ---- groups ------------------------------------------------------------------------------
    def _source_group(self) -> QGroupBox:
        group = QGroupBox("Source")
        form = QFormLayout(group)
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 16)
        camera_button = QPushButton("Use camera")
        camera_button.clicked.connect(lambda: self.camera_requested.emit(str(self.camera_index.value())))
        form.addRow("Camera", row(self.camera_index, camera_button))
        file_button = QPushButton("Open file…")
        file_button.clicked.connect(lambda: self.open_file_requested.emit())
        folder_button = QPushButton("Open folder…")
        folder_button.clicked.connect(lambda: self.open_folder_requested.emit())
        form.addRow(row(file_button, folder_button))
        self.source_label = QLabel("")
        self.source_label.setWordWrap(True)
        form.addRow(self.source_label)
        return group

    def _playback_group(self) -> QGroupBox:
        group = QGroupBox("Playback")
        form = QFormLayout(group)
        self.pause_button = QPushButton("Pause (Space)")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        step_button = QPushButton("Step ▶")
        step_button.setToolTip("Next frame while paused, or next photo (Right arrow)")
        step_button.clicked.connect(lambda: self.step_requested.emit(1))
        back_button = QPushButton("◀ Photo")
        back_button.setToolTip("Previous photo of a folder (Left arrow)")
        back_button.clicked.connect(lambda: self.step_requested.emit(-1))
        form.addRow(row(back_button, self.pause_button, step_button))
        self.loop_check = QCheckBox("loop video / folder")
        self.loop_check.toggled.connect(lambda on: self.loop_changed.emit(on))
        form.addRow(self.loop_check)
        self.interval_spin = QDoubleSpinBox()
        self.interval_spin.setRange(0.0, 3600.0)
        self.interval_spin.setSingleStep(0.5)
        self.interval_spin.setSpecialValueText("on request")
        self.interval_spin.setSuffix(" s")
        self.interval_spin.setToolTip("A folder of photos moves on every N seconds; 'on request': "
                                      "only with the arrow keys or buttons")
        self.interval_spin.valueChanged.connect(lambda _v: self.interval_changed.emit(self.interval()))
        form.addRow("next photo", self.interval_spin)
        return group

    def _model_group(self, config: PipelineConfig) -> QGroupBox:
        group = QGroupBox("Model")
        form = QFormLayout(group)
        self.points_combo = QComboBox()
        for points in (68, 98):
            self.points_combo.addItem(f"{points} points", points)
            offer_if_present(self.points_combo, self.points_combo.count() - 1, default_weights_path(points))
        self.points_combo.setCurrentIndex(0 if config.points == 68 else 1)
        self.points_combo.currentIndexChanged.connect(self._on_points_changed)
        form.addRow("Landmarks", self.points_combo)
        self.size_combo = QComboBox()
        for size, label in (("default", "default"), ("small", "small (faster)"), ("accurate", "accurate (slower)")):
            self.size_combo.addItem(label, size)
        self._offer_sizes(config.points)
        self.size_combo.setCurrentIndex(max(0, self.size_combo.findData(config.model)))
        self.size_combo.currentIndexChanged.connect(self._on_model_changed)
        form.addRow("Model", self.size_combo)
        return group

    def _smoothing_group(self, smoothing: SmoothingConfig) -> QGroupBox:
        group = QGroupBox("Smoothing (One Euro filter)")
        form = QFormLayout(group)
        self.smooth_check = QCheckBox("enabled")
        self.smooth_check.setChecked(smoothing.enabled)
        self.min_cutoff = QDoubleSpinBox()
        self.min_cutoff.setRange(0.05, 20.0)
        self.min_cutoff.setSingleStep(0.1)
        self.min_cutoff.setValue(smoothing.min_cutoff)
        self.min_cutoff.setToolTip("Hz. Lower: steadier points at rest, more lag.")
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 100.0)
        self.beta.setSingleStep(0.5)
        self.beta.setValue(smoothing.beta)
        self.beta.setToolTip("Speed coefficient (per face size per second). Higher: less lag in fast motion.")
        self.smooth_check.toggled.connect(lambda _v: self.smoothing_changed.emit(self.smoothing()))
        for spin in (self.min_cutoff, self.beta):
            spin.valueChanged.connect(lambda _v: self.smoothing_changed.emit(self.smoothing()))
        form.addRow(self.smooth_check)
        form.addRow("min cutoff (Hz)", self.min_cutoff)
        form.addRow("beta", self.beta)
        return group

    def _show_group(self) -> QGroupBox:
        group = QGroupBox("Show")
        box = QHBoxLayout(group)
        self.show_checks: dict[str, QCheckBox] = {}
        for name in DRAWN:
            check = QCheckBox(name)
            check.setChecked(True)
            check.toggled.connect(lambda _v: self.overlay_changed.emit(self.overlay_options()))
            self.show_checks[name] = check
            box.addWidget(check)
        return group

    def _recording_group(self) -> QGroupBox:
        group = QGroupBox("Recording")
        form = QFormLayout(group)
        self.csv_path = QLineEdit(default_csv())
        browse = QPushButton("…")
        browse.setFixedWidth(30)
        browse.clicked.connect(lambda: self.browse_csv_requested.emit())
        form.addRow("CSV", row(self.csv_path, browse))
        self.record_button = QPushButton("Start recording (R)")
        self.record_button.setCheckable(True)
        self.record_button.clicked.connect(lambda: self.record_clicked.emit(self.record_button.isChecked()))
        form.addRow(self.record_button)
        self.rows_label = QLabel("not recording")
        self.rows_label.setWordWrap(True)
        form.addRow(self.rows_label)
        return group

    # ---- what the user chose ----------------------------------------------------------------
    def smoothing(self) -> SmoothingConfig:
        return replace(self._smoothing, enabled=self.smooth_check.isChecked(),
                       min_cutoff=self.min_cutoff.value(), beta=self.beta.value())

    def overlay_options(self) -> OverlayOptions:
        return OverlayOptions(**{name: check.isChecked() for name, check in self.show_checks.items()})

    def interval(self) -> float | None:
        value = self.interval_spin.value()
        return value if value > 0 else None

    def model_choice(self) -> tuple[int, str]:
        return self.points_combo.currentData(), self.size_combo.currentData()

    def _offer_sizes(self, points: int) -> None:
        for index in range(self.size_combo.count()):
            offer_if_present(self.size_combo, index, default_weights_path(points, self.size_combo.itemData(index)))

    def _on_points_changed(self, _index: int) -> None:
        """The sizes on offer follow the layout (small has no 98-point weights); a size the new layout
        lacks falls back to the default, and the model changes once, not once per combo."""
        self.size_combo.blockSignals(True)
        self._offer_sizes(self.points_combo.currentData())
        if not self.size_combo.model().item(self.size_combo.currentIndex()).isEnabled():
            self.size_combo.setCurrentIndex(self.size_combo.findData("default"))
        self.size_combo.blockSignals(False)
        self._on_model_changed(_index)

    def _on_model_changed(self, _index: int) -> None:
        self.model_changed.emit(*self.model_choice())

    def _on_pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume (Space)" if paused else "Pause (Space)")
        self.pause_toggled.emit(paused)

    def set_recording(self, active: bool) -> None:
        self.record_button.setChecked(active)
        self.record_button.setText("Stop recording (R)" if active else "Start recording (R)")

    # ---- persistence ------------------------------------------------------------------------
    def restore(self, settings: QSettings, config: PipelineConfig) -> None:
        """The remembered choices; an explicit --no-smoothing wins over the remembered one."""
        self.min_cutoff.setValue(setting(settings, "smoothing/min_cutoff", config.smoothing.min_cutoff, float))
        self.beta.setValue(setting(settings, "smoothing/beta", config.smoothing.beta, float))
        if config.smoothing.enabled:
            self.smooth_check.setChecked(setting(settings, "smoothing/enabled", True, bool))
        for name, check in self.show_checks.items():
            check.setChecked(setting(settings, f"show/{name}", True, bool))
        self.loop_check.setChecked(setting(settings, "playback/loop", False, bool))
        self.interval_spin.setValue(setting(settings, "playback/interval", 0.0, float))
        self.csv_path.setText(setting(settings, "recording/csv", default_csv(), str))

    def save(self, settings: QSettings) -> None:
        points, size = self.model_choice()
        settings.setValue("model/points", points)
        settings.setValue("model/size", size)
        settings.setValue("smoothing/enabled", self.smooth_check.isChecked())
        settings.setValue("smoothing/min_cutoff", self.min_cutoff.value())
        settings.setValue("smoothing/beta", self.beta.value())
        for name, check in self.show_checks.items():
            settings.setValue(f"show/{name}", check.isChecked())
        settings.setValue("playback/loop", self.loop_check.isChecked())
        settings.setValue("playback/interval", self.interval_spin.value())
        settings.setValue("recording/csv", self.csv_path.text())


def row(*widgets: QWidget) -> QHBoxLayout:
    layout = QHBoxLayout()
    for widget in widgets:
        layout.addWidget(widget)
    return layout


def offer_if_present(combo: QComboBox, index: int, weights: Path) -> None:
    """The combo's item is greyed out, with the reason, while its weights are not there."""
    item = combo.model().item(index)
    item.setEnabled(weights.exists())
    item.setToolTip("" if weights.exists() else f"not available: no trained weights at {weights}")
