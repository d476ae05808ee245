"""Main window: live video with landmarks, controls, FPS/latency read-out and plots.

Keys: Space pause/resume, Right next frame (paused) or next photo, Left
previous photo, S snapshot, R start/stop recording, Ctrl+O open file,
F full screen (Esc leaves it), Ctrl+Q quit. Settings and the window's
geometry are remembered between runs (QSettings).
"""
from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QMainWindow, QPushButton, QScrollArea,
                               QSpinBox, QVBoxLayout, QWidget)

from app.processing import ProcessingThread, RecordingState, SourceInfo, Stats
from app.widgets import LivePlots, PlotSpec, VideoView
from core.config import MODEL_SIZES, PipelineConfig, default_weights_path
from core.errors import EXIT_BAD_INPUT, EXIT_FAILED
from core.outputs import next_free_path
from core.overlay import OverlayOptions
from core.pipeline import STAGES
from core.sources import input_files, is_camera_spec

VIDEO_FILTER = ("Videos and images (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.jpg *.jpeg *.png *.ppm *.bmp *.tif "
                "*.tiff *.webp);;All files (*)")
SETTINGS_ENV = "MOBILEFAN_SETTINGS"        # an .ini path: tests and portable installs
EVENT_BANNER_S = 5.0                       # how long a one-off event's banner stays


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


def load_settings() -> QSettings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "MobileFAN", "MobileFAN Live")


def _setting(settings: QSettings, key: str, default, kind=None):
    value = settings.value(key, default)
    if kind is bool:
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
    try:
        return kind(value) if kind else value
    except (TypeError, ValueError):
        return default


class MainWindow(QMainWindow):
    def __init__(self, config: PipelineConfig, max_frames: int | None = None, realtime: bool = True,
                 settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("MobileFAN Live")
        self.setMinimumSize(860, 560)
        self.settings = settings or load_settings()
        self.worker = ProcessingThread(config, max_frames, realtime)
        self.frames_shown = 0
        self.last_stats: Stats | None = None
        self.source: SourceInfo | None = None
        self.recording: RecordingState = RecordingState(False)
        self.exit_code = 0
        self._closing = False
        self._source_spec = ""
        self._record_note = ""                  # why a take went to another name than asked

        self.video = VideoView()
        self.video.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.video.show_message("Starting…")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #5a3d00; color: #ffe9b0; padding: 6px;")
        self.banner.hide()
        self.banner_timer = QTimer(self)
        self.banner_timer.setSingleShot(True)
        self.banner_timer.timeout.connect(lambda: self.show_banner(self._lasting_banner))
        self._lasting_banner = ""               # what the banner returns to when an event's note fades
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

        left = QVBoxLayout()
        left.addWidget(self.banner)
        left.addWidget(self.video, 1)
        left.addWidget(self.stats_label)
        left.addWidget(self.plot)

        root = QHBoxLayout()
        root.addLayout(left, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._build_controls(config))
        scroll.setFixedWidth(320)
        root.addWidget(scroll)
        central = QWidget()
        central.setLayout(root)
        self.setCentralWidget(central)
        self._build_actions()
        self._restore_settings(config)

        self.worker.frame_ready.connect(self.on_frame)
        self.worker.message.connect(self.on_message)
        self.worker.recording_changed.connect(self.on_recording_changed)
        self.worker.source_opened.connect(self.on_source_opened)
        self.worker.source_failed.connect(self.on_source_failed)
        self.worker.finished_source.connect(self.on_source_finished)

    # ---- controls ---------------------------------------------------------------------------
    def _build_controls(self, config: PipelineConfig) -> QWidget:
        panel = QWidget()
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

        play = QGroupBox("Playback")
        form = QFormLayout(play)
        self.pause_button = QPushButton("Pause (Space)")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.set_paused)
        step_button = QPushButton("Step ▶")
        step_button.setToolTip("Next frame while paused, or next photo (Right arrow)")
        step_button.clicked.connect(lambda: self.step(1))
        back_button = QPushButton("◀ Photo")
        back_button.setToolTip("Previous photo of a folder (Left arrow)")
        back_button.clicked.connect(lambda: self.step(-1))
        row = QHBoxLayout()
        row.addWidget(back_button)
        row.addWidget(self.pause_button)
        row.addWidget(step_button)
        form.addRow(row)
        self.loop_check = QCheckBox("loop video / folder")
        self.loop_check.toggled.connect(self.worker.set_loop)
        form.addRow(self.loop_check)
        self.interval_spin = QDoubleSpinBox()
        self.interval_spin.setRange(0.0, 3600.0)
        self.interval_spin.setSingleStep(0.5)
        self.interval_spin.setSpecialValueText("on request")
        self.interval_spin.setSuffix(" s")
        self.interval_spin.setToolTip("A folder of photos moves on every N seconds; 'on request': "
                                      "only with the arrow keys or buttons")
        self.interval_spin.valueChanged.connect(self.push_interval)
        form.addRow("next photo", self.interval_spin)
        col.addWidget(play)

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
        self.points_combo.currentIndexChanged.connect(self.on_points_changed)
        form.addRow("Landmarks", self.points_combo)
        self.size_combo = QComboBox()
        for size, label in (("default", "default"), ("small", "small (faster)")):
            self.size_combo.addItem(label, size)
            path = default_weights_path(config.points, size)
            if not path.exists():
                item = self.size_combo.model().item(self.size_combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip(f"not available: no trained weights at {path}")
        self.size_combo.setCurrentIndex(0 if config.model == "default" else 1)
        self.size_combo.currentIndexChanged.connect(self.on_points_changed)
        form.addRow("Model", self.size_combo)
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
        self.smooth_check.toggled.connect(self.push_smoothing)
        self.min_cutoff.valueChanged.connect(self.push_smoothing)
        self.beta.valueChanged.connect(self.push_smoothing)
        form.addRow(self.smooth_check)
        form.addRow("min cutoff (Hz)", self.min_cutoff)
        form.addRow("beta", self.beta)
        col.addWidget(smooth)

        show = QGroupBox("Show")
        box = QHBoxLayout(show)
        self.show_checks: dict[str, QCheckBox] = {}
        for name in ("points", "lines", "boxes", "axes"):
            check = QCheckBox(name)
            check.setChecked(True)
            check.toggled.connect(self.push_overlay)
            self.show_checks[name] = check
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
        self.record_button = QPushButton("Start recording (R)")
        self.record_button.setCheckable(True)
        self.record_button.clicked.connect(self.toggle_recording)
        form.addRow(self.record_button)
        self.rows_label = QLabel("not recording")
        self.rows_label.setWordWrap(True)
        form.addRow(self.rows_label)
        col.addWidget(rec)
        col.addStretch(1)
        for button in panel.findChildren(QPushButton) + panel.findChildren(QCheckBox):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # keys stay with the window's shortcuts
        return panel

    def _build_actions(self) -> None:
        def action(menu, text, shortcut, slot, checkable=False) -> QAction:
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.setCheckable(checkable)
            act.triggered.connect(slot)
            menu.addAction(act)
            self.addAction(act)                  # shortcuts work in full screen, without the menu bar
            return act

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = action(file_menu, "Open file…", "Ctrl+O", self.choose_file)
        action(file_menu, "Open folder…", "Ctrl+Shift+O", self.choose_folder)
        self.snapshot_action = action(file_menu, "Save snapshot (PNG)", "S", self.save_snapshot)
        self.record_action = action(file_menu, "Start/stop recording", "R", self.toggle_recording_key)
        file_menu.addSeparator()
        action(file_menu, "Quit", "Ctrl+Q", self.close)
        play_menu = bar.addMenu("&Playback")
        self.pause_action = action(play_menu, "Pause / resume", "Space", self.pause_button.toggle)
        self.step_action = action(play_menu, "Next frame / photo", "Right", lambda: self.step(1))
        self.back_action = action(play_menu, "Previous photo", "Left", lambda: self.step(-1))
        action(play_menu, "Loop", "L", self.loop_check.toggle)
        view_menu = bar.addMenu("&View")
        self.fullscreen_action = action(view_menu, "Full screen", "F", self.toggle_full_screen)
        action(view_menu, "Leave full screen", "Esc", lambda: self.isFullScreen() and self.toggle_full_screen())

    # ---- settings ---------------------------------------------------------------------------
    def _restore_settings(self, config: PipelineConfig) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 760)
        self.min_cutoff.setValue(_setting(s, "smoothing/min_cutoff", config.smoothing.min_cutoff, float))
        self.beta.setValue(_setting(s, "smoothing/beta", config.smoothing.beta, float))
        if config.smoothing.enabled:        # --no-smoothing wins over the remembered choice
            self.smooth_check.setChecked(_setting(s, "smoothing/enabled", True, bool))
        for name, check in self.show_checks.items():
            check.setChecked(_setting(s, f"show/{name}", True, bool))
        self.loop_check.setChecked(_setting(s, "playback/loop", False, bool))
        self.interval_spin.setValue(_setting(s, "playback/interval", 0.0, float))
        self.csv_path.setText(_setting(s, "recording/csv", str(Path.cwd() / "landmarks.csv"), str))
        self.push_smoothing()
        self.push_overlay()
        self.push_interval()

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("model/points", self.points_combo.currentData())
        s.setValue("model/size", self.size_combo.currentData())
        s.setValue("smoothing/enabled", self.smooth_check.isChecked())
        s.setValue("smoothing/min_cutoff", self.min_cutoff.value())
        s.setValue("smoothing/beta", self.beta.value())
        for name, check in self.show_checks.items():
            s.setValue(f"show/{name}", check.isChecked())
        s.setValue("playback/loop", self.loop_check.isChecked())
        s.setValue("playback/interval", self.interval_spin.value())
        s.setValue("recording/csv", self.csv_path.text())
        s.sync()

    # ---- user actions ------------------------------------------------------------------------
    def open_source(self, spec: str) -> None:
        self._source_spec = spec
        self.source_label.setText(f"source: camera {spec}" if is_camera_spec(spec) else f"source: {Path(spec).name}")
        self.video.show_message(f"Opening {spec}…")
        self.frames_shown = 0
        self.worker.open_source(spec)

    def _start_dir(self) -> str:
        return _setting(self.settings, "paths/last_dir", "", str)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open video or image", self._start_dir(), VIDEO_FILTER)
        if path:
            self.settings.setValue("paths/last_dir", str(Path(path).parent))
            self.open_source(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images", self._start_dir())
        if path:
            self.settings.setValue("paths/last_dir", path)
            self.open_source(path)

    def choose_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Record to CSV", self.csv_path.text(), "CSV (*.csv)")
        if path:
            self.csv_path.setText(path)

    def on_points_changed(self, _index: int) -> None:
        """The landmark layout or the model size changed: load that model."""
        points, size = self.points_combo.currentData(), self.size_combo.currentData()
        if self.recording.active and points != self.worker.config.points:
            self.show_banner("Recording stopped: a CSV holds one landmark layout. Start a new recording "
                             "for the new layout.", EVENT_BANNER_S)
        self.worker.set_model(points, size)

    def push_smoothing(self) -> None:
        smoothing = replace(self.worker.config.smoothing, enabled=self.smooth_check.isChecked(),
                            min_cutoff=self.min_cutoff.value(), beta=self.beta.value())
        self.worker.set_smoothing(smoothing)

    def push_overlay(self) -> None:
        self.worker.set_overlay(OverlayOptions(**{n: c.isChecked() for n, c in self.show_checks.items()}))

    def push_interval(self) -> None:
        value = self.interval_spin.value()
        self.worker.set_still_interval(value if value > 0 else None)

    def set_paused(self, paused: bool) -> None:
        self.pause_button.setText("Resume (Space)" if paused else "Pause (Space)")
        self.worker.set_paused(paused)

    def step(self, delta: int) -> None:
        if self.source is None:
            return
        if not self.source.still and delta > 0 and not self.pause_button.isChecked():
            self.pause_button.setChecked(True)           # stepping a video pauses it first
        if self.source.still or delta > 0:
            self.worker.step(delta)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def save_snapshot(self) -> Path | None:
        image = self.video.current_image()
        if image is None:
            self.show_banner("Nothing to save yet: no frame has been shown.", EVENT_BANNER_S)
            return None
        folder = Path(_setting(self.settings, "paths/snapshots", "", str) or
                      QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
                      or Path.cwd())
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.show_banner(f"Snapshot not saved: cannot create {folder} ({exc.strerror or exc}).",
                             EVENT_BANNER_S)
            return None
        path = next_free_path(folder / time.strftime("mobilefan-%Y%m%d-%H%M%S.png"))
        if not image.save(str(path), "PNG"):
            self.show_banner(f"Snapshot not saved: cannot write {path}.", EVENT_BANNER_S)
            return None
        self.show_banner(f"Snapshot saved: {path}", EVENT_BANNER_S)
        return path

    def toggle_recording_key(self) -> None:
        self.record_button.click()

    def toggle_recording(self, checked: bool) -> None:
        if checked:
            self.start_recording(Path(self.csv_path.text()).expanduser())
        else:
            self.worker.stop_recording()

    def start_recording(self, path: Path, overwrite: bool = False) -> Path | None:
        """Record to `path`; an existing file is kept and a fresh numbered name is used instead."""
        path = path.expanduser()
        if self._source_spec and not is_camera_spec(self._source_spec):
            if path.resolve() in {p.resolve() for p in input_files(self._source_spec)}:
                self.record_button.setChecked(False)
                self.show_banner(f"Not recording: {path} is the input being played; choose another CSV.",
                                 EVENT_BANNER_S)
                return None
        self._record_note = ""
        if path.exists() and not overwrite:
            fresh = next_free_path(path)
            self._record_note = f"{path.name} exists, so this take goes to {fresh.name}.\n"
            path = fresh
        self.csv_path.setText(str(path))
        self.record_button.setChecked(True)
        self.rows_label.setText(self._record_note + f"starting {path.name}…")
        self.worker.start_recording(path, overwrite)
        return path

    # ---- worker signals ---------------------------------------------------------------------
    def on_frame(self, image, stats: Stats) -> None:
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
        if stats.face_limit_hit:
            self.show_banner(f"{stats.faces_found} faces found; landmarks for the first {stats.faces} only "
                             f"(start with --max-faces N for more).", EVENT_BANNER_S)
        if stats.recording_rows is not None and self.recording.active:
            self.rows_label.setText(self._record_note + f"recording to {Path(self.recording.path).name}: "
                                    f"{stats.recording_rows} rows")

    def show_banner(self, text: str, seconds: float | None = None) -> None:
        """A message above the video: lasting (a problem that lasts) or, with `seconds`, one that
        fades (an event: a snapshot saved)."""
        self.banner_timer.stop()
        if seconds is None:
            self._lasting_banner = text
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        if text and seconds is not None:
            self.banner_timer.start(int(seconds * 1000))

    def on_message(self, text: str) -> None:
        """A problem that lasts (no weights, a failed recording) stands in the banner."""
        self.show_banner(text)

    def on_recording_changed(self, state: RecordingState) -> None:
        self.recording = state
        self.record_button.setChecked(state.active)
        self.record_button.setText("Stop recording (R)" if state.active else "Start recording (R)")
        name = Path(state.path).name
        if state.active:
            self.rows_label.setText(self._record_note + f"recording to {name}")
        elif state.error:
            self.rows_label.setText(f"stopped: {state.error}" if state.rows else f"could not record: {state.error}")
            self.show_banner(f"Recording: {state.error}")
        else:
            self.rows_label.setText(f"saved {state.rows} rows to {name}")

    def on_source_opened(self, info: SourceInfo) -> None:
        self.source = info
        self.plot.restart()
        self.plot.setVisible(not info.still)
        kind = "camera" if info.live else ("photos" if info.still else "video")
        count = f", {info.length} {'photos' if info.still else 'frames'}" if info.length else ""
        self.source_label.setText(f"source: {info.name} ({kind}{count})")

    def on_source_failed(self, text: str) -> None:
        self.source_label.setText(self.source_label.text() + " (failed)")
        hint = "Use File ▸ Open file… (Ctrl+O) to play a video or photos instead."
        if self.frames_shown == 0:
            self.video.show_message(f"{text}.\n\n{hint}")
        else:
            self.show_banner(f"{text}. {hint}")

    def on_source_finished(self) -> None:
        if not self.source_label.text().endswith("(ended)"):
            self.source_label.setText(self.source_label.text() + " (ended)")

    # ---- start and stop ---------------------------------------------------------------------
    def start(self, source: str, csv_path: Path | None = None, overwrite: bool = False) -> None:
        self.worker.load_model()
        self.open_source(source)
        if csv_path is not None:
            self.start_recording(csv_path, overwrite)
        self.worker.start()

    def request_quit(self, code: int = 0) -> None:
        self.exit_code = self.exit_code or code
        self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if not self._closing:
            self._closing = True
            self.save_settings()
            self.worker.request_stop()
        if self.worker.isRunning() and not self.worker.wait(1000):
            # Busy (loading a model, a huge photo): finish first, never destroy a running thread.
            self.show_banner("Finishing the current frame before closing…")
            if not getattr(self, "_close_when_done", False):
                self._close_when_done = True
                self.worker.finished.connect(self.close, Qt.ConnectionType.QueuedConnection)
            event.ignore()
            return
        event.accept()


def remembered_model(points: int | None = None, size: str | None = None) -> tuple[int, str]:
    """The landmark layout and model size: as given, else as chosen in the last session,
    else 68 points, default size (a remembered choice whose weights are gone is forgotten)."""
    settings = load_settings()
    if points is None:
        points = _setting(settings, "model/points", 68, int)
        if points not in (68, 98) or not default_weights_path(points).exists():
            points = 68
    if size is None:
        size = _setting(settings, "model/size", "default", str)
        if size not in MODEL_SIZES or not default_weights_path(points, size).exists():
            size = "default"
    return points, size


def _quiet_qt_messages(verbose: bool) -> None:
    """Qt's own notes (e.g. 'This plugin does not support propagateSizeHints()') go only with --verbose."""
    if verbose:
        return

    def handler(kind, context, text) -> None:
        if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            sys.stderr.write(f"Qt: {text}\n")

    qInstallMessageHandler(handler)


def run_gui(config: PipelineConfig, source: str = "0", csv_path: Path | None = None,
            max_frames: int | None = None, overwrite: bool = False, loop: bool | None = None,
            interval: float | None = None, verbose: bool = False, realtime: bool = True) -> int:
    """Open the window; returns the process exit code (130 after Ctrl-C, 143 after SIGTERM)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("MobileFAN Live")
    _quiet_qt_messages(verbose)
    window = MainWindow(config, max_frames, realtime)
    if loop is not None:
        window.loop_check.setChecked(loop)
    if interval is not None:
        window.interval_spin.setValue(interval)
    if max_frames is not None:
        # Demo/test mode: leave once N frames are processed, or when a file ends first.
        window.worker.limit_reached.connect(window.close, Qt.ConnectionType.QueuedConnection)
        window.worker.finished_source.connect(window.close, Qt.ConnectionType.QueuedConnection)

    def fail(text: str) -> None:
        print(f"error: {text}", file=sys.stderr)
        # Never opened (nothing was recorded): bad input, 2. Lost while playing: a failure, 1.
        window.request_quit(EXIT_FAILED if window.frames_shown else EXIT_BAD_INPUT)

    if max_frames is not None:
        window.worker.source_failed.connect(fail, Qt.ConnectionType.QueuedConnection)

    # Ctrl-C and SIGTERM close the window (finalising the CSV). Python runs signal handlers
    # only between bytecodes, so a timer hands the interpreter control a few times a second.
    previous = {}
    for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        previous[signum] = signal.signal(signum, lambda *_, c=code: QTimer.singleShot(0, lambda: window.request_quit(c)))
    ticker = QTimer()
    ticker.start(100)
    ticker.timeout.connect(lambda: None)
    try:
        window.show()
        window.start(source, csv_path, overwrite)
        code = app.exec()
        window.worker.wait()
    finally:
        ticker.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return window.exit_code or code
