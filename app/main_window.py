"""Main window: live video with landmarks, controls, FPS/latency read-out and plot."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QMainWindow, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from app.processing import ProcessingThread, Stats
from app.widgets import StatsPlot, VideoView
from core.config import PipelineConfig, default_weights_path
from core.pipeline import STAGES

VIDEO_FILTER = "Videos and images (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.jpg *.jpeg *.png *.ppm *.bmp);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, config: PipelineConfig, max_frames: int | None = None) -> None:
        super().__init__()
        self.setWindowTitle("MobileFAN Live")
        self.resize(1180, 720)
        self.worker = ProcessingThread(config, max_frames)
        self.frames_shown = 0
        self.last_stats: Stats | None = None

        self.video = VideoView()
        self.video.show_message("Starting…")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #5a3d00; color: #ffe9b0; padding: 6px;")
        self.banner.hide()
        self.stats_label = QLabel("—")
        self.stats_label.setStyleSheet("font-family: monospace;")
        self.plot = StatsPlot()

        left = QVBoxLayout()
        left.addWidget(self.banner)
        left.addWidget(self.video, 1)
        left.addWidget(self.stats_label)
        left.addWidget(self.plot)

        root = QHBoxLayout()
        root.addLayout(left, 1)
        root.addWidget(self._build_controls(config))
        central = QWidget()
        central.setLayout(root)
        self.setCentralWidget(central)

        self.worker.frame_ready.connect(self.on_frame)
        self.worker.message.connect(self.on_message)
        self.worker.recording_changed.connect(self.on_recording_changed)
        self.worker.finished_source.connect(self.on_source_finished)

    # ---- controls ---------------------------------------------------------------------------
    def _build_controls(self, config: PipelineConfig) -> QWidget:
        panel = QWidget()
        panel.setFixedWidth(300)
        col = QVBoxLayout(panel)

        src = QGroupBox("Source")
        form = QFormLayout(src)
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 16)
        camera_button = QPushButton("Use camera")
        camera_button.clicked.connect(lambda: self.open_source(str(self.camera_index.value())))
        row = QHBoxLayout()
        row.addWidget(self.camera_index)
        row.addWidget(camera_button)
        form.addRow("Camera", row)
        file_button = QPushButton("Open file…")
        file_button.clicked.connect(self.choose_file)
        folder_button = QPushButton("Open folder…")
        folder_button.clicked.connect(self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(file_button)
        row.addWidget(folder_button)
        form.addRow(row)
        self.source_label = QLabel("")
        self.source_label.setWordWrap(True)
        form.addRow(self.source_label)
        col.addWidget(src)

        model = QGroupBox("Model")
        form = QFormLayout(model)
        self.points_combo = QComboBox()
        for points in (68, 98):
            self.points_combo.addItem(f"{points} points", points)
            path = default_weights_path(points)
            if not path.exists():
                item = self.points_combo.model().item(self.points_combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip(f"not available: no trained weights at {path}")
        self.points_combo.setCurrentIndex(0 if config.points == 68 else 1)
        self.points_combo.currentIndexChanged.connect(
            lambda i: self.worker.set_points(self.points_combo.itemData(i)))
        form.addRow("Landmarks", self.points_combo)
        col.addWidget(model)

        smooth = QGroupBox("Smoothing (One Euro filter)")
        form = QFormLayout(smooth)
        self.smooth_check = QCheckBox("enabled")
        self.smooth_check.setChecked(config.smoothing.enabled)
        self.min_cutoff = QDoubleSpinBox()
        self.min_cutoff.setRange(0.05, 20.0)
        self.min_cutoff.setSingleStep(0.1)
        self.min_cutoff.setValue(config.smoothing.min_cutoff)
        self.min_cutoff.setToolTip("Hz. Lower: steadier points at rest, more lag.")
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 100.0)
        self.beta.setSingleStep(0.5)
        self.beta.setValue(config.smoothing.beta)
        self.beta.setToolTip("Speed coefficient (per face size per second). Higher: less lag in fast motion.")
        for w in (self.smooth_check,):
            w.toggled.connect(self.push_smoothing)
        for w in (self.min_cutoff, self.beta):
            w.valueChanged.connect(self.push_smoothing)
        form.addRow(self.smooth_check)
        form.addRow("min cutoff (Hz)", self.min_cutoff)
        form.addRow("beta", self.beta)
        col.addWidget(smooth)

        show = QGroupBox("Show")
        box = QHBoxLayout(show)
        for name in ("points", "lines", "boxes"):
            check = QCheckBox(name)
            check.setChecked(True)
            check.toggled.connect(lambda on, n=name: setattr(self.worker.overlay, n, on))
            setattr(self, f"show_{name}", check)
            box.addWidget(check)
        col.addWidget(show)

        rec = QGroupBox("Recording")
        form = QFormLayout(rec)
        self.csv_path = QLineEdit(str(Path.cwd() / "landmarks.csv"))
        browse = QPushButton("…")
        browse.setFixedWidth(30)
        browse.clicked.connect(self.choose_csv)
        row = QHBoxLayout()
        row.addWidget(self.csv_path)
        row.addWidget(browse)
        form.addRow("CSV", row)
        self.record_button = QPushButton("Start recording")
        self.record_button.setCheckable(True)
        self.record_button.clicked.connect(self.toggle_recording)
        form.addRow(self.record_button)
        self.rows_label = QLabel("not recording")
        form.addRow(self.rows_label)
        col.addWidget(rec)
        col.addStretch(1)
        return panel

    def open_source(self, spec: str) -> None:
        self.source_label.setText(f"source: camera {spec}" if spec.isdigit() else f"source: {Path(spec).name}")
        self.video.show_message(f"Opening {spec}…")
        self.worker.open_source(spec)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open video or image", "", VIDEO_FILTER)
        if path:
            self.open_source(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images")
        if path:
            self.open_source(path)

    def choose_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Record to CSV", self.csv_path.text(), "CSV (*.csv)")
        if path:
            self.csv_path.setText(path)

    def push_smoothing(self) -> None:
        smoothing = replace(self.worker.config.smoothing, enabled=self.smooth_check.isChecked(),
                            min_cutoff=self.min_cutoff.value(), beta=self.beta.value())
        self.worker.set_smoothing(smoothing)

    def toggle_recording(self, checked: bool) -> None:
        if checked:
            self.start_recording(Path(self.csv_path.text()).expanduser())
        else:
            self.worker.stop_recording()

    def start_recording(self, path: Path) -> None:
        self.csv_path.setText(str(path))
        self.record_button.setChecked(True)
        self.worker.start_recording(path)

    # ---- worker signals -----------------------------------------------------------------------
    def on_frame(self, image: QImage, stats: Stats) -> None:
        self.frames_shown += 1
        self.last_stats = stats
        self.video.show_image(image)
        stages = " ".join(f"{k} {stats.stages_ms.get(k, 0):.1f}" for k in STAGES)
        self.stats_label.setText(
            f"capture {stats.capture_fps:5.1f} fps | processing {stats.process_fps:5.1f} fps | "
            f"latency {stats.latency_ms:5.1f} ms | faces {stats.faces} | dropped {stats.dropped}\n"
            f"stage ms: {stages}")
        self.plot.add(stats.process_fps, stats.latency_ms)
        if stats.recording_rows is not None:
            self.rows_label.setText(f"recording: {stats.recording_rows} rows")

    def on_message(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        if text and self.frames_shown == 0:
            self.video.show_message(text)

    def on_recording_changed(self, recording: bool, detail: str) -> None:
        self.record_button.setChecked(recording)
        self.record_button.setText("Stop recording" if recording else "Start recording")
        if recording:
            self.rows_label.setText(f"recording to {detail}")
        elif detail.endswith(".csv") or Path(detail).exists():
            self.rows_label.setText(f"saved {detail}")
        else:
            self.rows_label.setText(f"could not record: {detail}")
            self.on_message(f"Recording failed: {detail}")

    def on_source_finished(self) -> None:
        self.source_label.setText(self.source_label.text() + " (ended)")

    def start(self, source: str, csv_path: Path | None = None) -> None:
        self.worker.load_model()
        self.open_source(source)
        if csv_path is not None:
            self.start_recording(csv_path)
        self.worker.start()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if not self.worker.stop(1000):
            print("warning: processing thread did not stop within 1 s", file=sys.stderr)
        event.accept()


def run_gui(config: PipelineConfig, source: str = "0", csv_path: Path | None = None,
            max_frames: int | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(config, max_frames)
    if max_frames is not None:
        # Demo/test mode: leave once N frames are processed, or when a file ends first.
        window.worker.limit_reached.connect(window.close, Qt.ConnectionType.QueuedConnection)
        window.worker.finished_source.connect(window.close, Qt.ConnectionType.QueuedConnection)
    window.show()
    window.start(source, csv_path)
    return app.exec()
