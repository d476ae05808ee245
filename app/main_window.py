"""Main window: the video with its read-out and plots beside the controls, and the menus.

It wires three parts and owns none of their insides: the controls panel
(app/controls.py: what the user chose, remembered between runs), the
presenter (app/presenter.py: results into pictures, text and plots) and the
processing thread (app/processing.py: capture, pipeline, recording). The
window talks to the thread only through its commands and hears back only
through its signals; it keeps its own copy of what it asked for.

Keys: Space pause/resume, Right next frame (paused) or next photo, Left
previous photo, S snapshot, R start/stop recording, Ctrl+O open file,
F full screen (Esc leaves it), L loop, Ctrl+Q quit.
"""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QScrollArea, QVBoxLayout,
                               QWidget)

from app.controls import ControlPanel
from app.presenter import FramePresenter
from app.processing import ProcessingThread, RecordingState, SourceInfo, Stats
from app.settings import load_settings, setting
from core.config import MODEL_SIZES, PipelineConfig, shipped_layouts
from core.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED
from core.outputs import next_free_path
from core.sources import input_files, is_camera_spec

VIDEO_FILTER = ("Videos and images (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.jpg *.jpeg *.png *.ppm *.bmp *.tif "
                "*.tiff *.webp);;All files (*)")
EVENT_BANNER_S = 5.0                       # how long a one-off event's banner stays
DEFAULT_SIZE = (1200, 760)


class MainWindow(QMainWindow):
    def __init__(self, config: PipelineConfig, max_frames: int | None = None, realtime: bool = True,
                 settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("MobileFAN Live")
        self.setMinimumSize(860, 560)
        self.settings = settings or load_settings()
        self.worker = ProcessingThread(config, max_frames, realtime)
        self.loaded_config: PipelineConfig = config     # the model the worker said it runs
        self.source: SourceInfo | None = None
        self.recording: RecordingState = RecordingState(False)
        self.exit_code = 0
        self._closing = False
        self._source_spec = ""
        self._record_note = ""                  # why a take went to another name than asked

        self.presenter = FramePresenter()
        self.controls = ControlPanel(config)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #5a3d00; color: #ffe9b0; padding: 6px;")
        self.banner.hide()
        self.banner_timer = QTimer(self)
        self.banner_timer.setSingleShot(True)
        self.banner_timer.timeout.connect(lambda: self.show_banner(self._lasting_banner))
        self._lasting_banner = ""               # what the banner returns to when an event's note fades
        self._lay_out()
        self._build_actions()
        self._restore_settings(config)
        self._connect_controls()
        self._connect_worker()

    # ---- layout, menus, wiring -----------------------------------------------------------------
    def _lay_out(self) -> None:
        left = QVBoxLayout()
        left.addWidget(self.banner)
        left.addWidget(self.presenter.video, 1)
        left.addWidget(self.presenter.stats_label)
        left.addWidget(self.presenter.plot)
        root = QHBoxLayout()
        root.addLayout(left, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.controls)
        scroll.setFixedWidth(320)
        root.addWidget(scroll)
        central = QWidget()
        central.setLayout(root)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        def action(menu, text, shortcut, slot) -> QAction:
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            self.addAction(act)                  # shortcuts work in full screen, without the menu bar
            return act

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        action(file_menu, "Open file…", "Ctrl+O", self.choose_file)
        action(file_menu, "Open folder…", "Ctrl+Shift+O", self.choose_folder)
        action(file_menu, "Save snapshot (PNG)", "S", self.save_snapshot)
        action(file_menu, "Start/stop recording", "R", lambda: self.controls.record_button.click())
        file_menu.addSeparator()
        action(file_menu, "Quit", "Ctrl+Q", self.close)
        play_menu = bar.addMenu("&Playback")
        action(play_menu, "Pause / resume", "Space", lambda: self.controls.pause_button.toggle())
        action(play_menu, "Next frame / photo", "Right", lambda: self.step(1))
        action(play_menu, "Previous photo", "Left", lambda: self.step(-1))
        action(play_menu, "Loop", "L", lambda: self.controls.loop_check.toggle())
        view_menu = bar.addMenu("&View")
        action(view_menu, "Full screen", "F", self.toggle_full_screen)
        action(view_menu, "Leave full screen", "Esc", lambda: self.isFullScreen() and self.toggle_full_screen())

    def _connect_controls(self) -> None:
        c, w = self.controls, self.worker
        c.camera_requested.connect(self.open_source)
        c.open_file_requested.connect(self.choose_file)
        c.open_folder_requested.connect(self.choose_folder)
        c.pause_toggled.connect(w.set_paused)
        c.step_requested.connect(self.step)
        c.loop_changed.connect(w.set_loop)
        c.interval_changed.connect(w.set_still_interval)
        c.model_changed.connect(self.on_model_chosen)
        c.smoothing_changed.connect(w.set_smoothing)
        c.overlay_changed.connect(w.set_overlay)
        c.record_clicked.connect(self.toggle_recording)
        c.browse_csv_requested.connect(self.choose_csv)

    def _connect_worker(self) -> None:
        w = self.worker
        w.frame_ready.connect(self.on_frame)
        w.message.connect(self.show_banner)       # a problem that lasts (no weights, a failed recording)
        w.model_loaded.connect(self.on_model_loaded)
        w.recording_changed.connect(self.on_recording_changed)
        w.source_opened.connect(self.on_source_opened)
        w.source_failed.connect(self.on_source_failed)
        w.finished_source.connect(self.on_source_finished)

    # ---- settings ---------------------------------------------------------------------------
    def _restore_settings(self, config: PipelineConfig) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
        self.controls.restore(self.settings, config)
        # What the panel now shows is what the worker starts with.
        self.worker.set_loop(self.controls.loop_check.isChecked())
        self.worker.set_smoothing(self.controls.smoothing())
        self.worker.set_overlay(self.controls.overlay_options())
        self.worker.set_still_interval(self.controls.interval())

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.controls.save(self.settings)
        self.settings.sync()

    # ---- user actions ------------------------------------------------------------------------
    def open_source(self, spec: str) -> None:
        self._source_spec = spec
        self.controls.source_label.setText(f"source: camera {spec}" if is_camera_spec(spec)
                                           else f"source: {Path(spec).name}")
        self.presenter.source_opening(spec)
        self.worker.open_source(spec)

    def _start_dir(self) -> str:
        return setting(self.settings, "paths/last_dir", "", str)

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
        path, _ = QFileDialog.getSaveFileName(self, "Record to CSV", self.controls.csv_path.text(), "CSV (*.csv)")
        if path:
            self.controls.csv_path.setText(path)

    def on_model_chosen(self, points: int, size: str) -> None:
        """The landmark layout or the model size changed: load that model."""
        if self.recording.active and points != self.loaded_config.points:
            self.show_banner("Recording stopped: a CSV holds one landmark layout. Start a new recording "
                             "for the new layout.", EVENT_BANNER_S)
        self.worker.set_model(points, size)

    def step(self, delta: int) -> None:
        if self.source is None:
            return
        if not self.source.still and delta > 0 and not self.controls.pause_button.isChecked():
            self.controls.pause_button.setChecked(True)           # stepping a video pauses it first
        if self.source.still or delta > 0:
            self.worker.step(delta)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def save_snapshot(self) -> Path | None:
        image = self.presenter.video.current_image()
        if image is None:
            self.show_banner("Nothing to save yet: no frame has been shown.", EVENT_BANNER_S)
            return None
        folder = Path(setting(self.settings, "paths/snapshots", "", str) or
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

    def toggle_recording(self, checked: bool) -> None:
        if checked:
            self.start_recording(Path(self.controls.csv_path.text()).expanduser())
        else:
            self.worker.stop_recording()

    def start_recording(self, path: Path, overwrite: bool = False) -> Path | None:
        """Record to `path`; an existing file is kept and a fresh numbered name is used instead."""
        path = path.expanduser()
        if self._source_spec and not is_camera_spec(self._source_spec):
            if path.resolve() in {p.resolve() for p in input_files(self._source_spec)}:
                self.controls.record_button.setChecked(False)
                self.show_banner(f"Not recording: {path} is the input being played; choose another CSV.",
                                 EVENT_BANNER_S)
                return None
        self._record_note = ""
        if path.exists() and not overwrite:
            fresh = next_free_path(path)
            self._record_note = f"{path.name} exists, so this take goes to {fresh.name}.\n"
            path = fresh
        self.controls.csv_path.setText(str(path))
        self.controls.record_button.setChecked(True)
        self.controls.rows_label.setText(self._record_note + f"starting {path.name}…")
        self.worker.start_recording(path, overwrite)
        return path

    # ---- worker signals ---------------------------------------------------------------------
    def on_frame(self, image, stats: Stats) -> None:
        self.presenter.show_frame(image, stats)
        if stats.face_limit_hit:
            self.show_banner(f"{stats.faces_found} faces found; landmarks for the first {stats.faces} only "
                             f"(start with --max-faces N for more).", EVENT_BANNER_S)
        if stats.recording_rows is not None and self.recording.active:
            self.controls.rows_label.setText(self._record_note + f"recording to {Path(self.recording.path).name}: "
                                             f"{stats.recording_rows} rows")

    def show_banner(self, text: str, seconds: float | None = None) -> None:
        """A message above the video: lasting (a problem that lasts) or, with `seconds`, one that
        fades (an event: a snapshot saved) back to the lasting one."""
        self.banner_timer.stop()
        if seconds is None:
            self._lasting_banner = text
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        if text and seconds is not None:
            self.banner_timer.start(int(seconds * 1000))

    def on_model_loaded(self, config: PipelineConfig) -> None:
        self.loaded_config = config

    def on_recording_changed(self, state: RecordingState) -> None:
        self.recording = state
        self.controls.set_recording(state.active)
        name = Path(state.path).name
        rows = self.controls.rows_label
        if state.active:
            rows.setText(self._record_note + f"recording to {name}")
        elif state.error:
            rows.setText(f"stopped: {state.error}" if state.rows else f"could not record: {state.error}")
            self.show_banner(f"Recording: {state.error}")
        else:
            rows.setText(f"saved {state.rows} rows to {name}")

    def on_source_opened(self, info: SourceInfo) -> None:
        self.source = info
        self.presenter.source_opened(info)
        kind = "camera" if info.live else ("photos" if info.still else "video")
        count = f", {info.length} {'photos' if info.still else 'frames'}" if info.length else ""
        self.controls.source_label.setText(f"source: {info.name} ({kind}{count})")

    def on_source_failed(self, text: str) -> None:
        label = self.controls.source_label
        label.setText(label.text() + " (failed)")
        hint = "Use File ▸ Open file… (Ctrl+O) to play a video or photos instead."
        if self.presenter.frames_shown == 0:
            self.presenter.show_message(f"{text}.\n\n{hint}")
        else:
            self.show_banner(f"{text}. {hint}")

    def on_source_finished(self) -> None:
        label = self.controls.source_label
        if not label.text().endswith("(ended)"):
            label.setText(label.text() + " (ended)")

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
        points = setting(settings, "model/points", 68, int)
        if points not in shipped_layouts(size or "default"):
            points = 68                        # e.g. 98 remembered, `--model small` asked for: small has no 98
    if size is None:
        size = setting(settings, "model/size", "default", str)
        if size not in MODEL_SIZES or points not in shipped_layouts(size):
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
    """Open the window; returns the process exit code (README, exit codes)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("MobileFAN Live")
    _quiet_qt_messages(verbose)
    window = MainWindow(config, max_frames, realtime)
    if loop is not None:
        window.controls.loop_check.setChecked(loop)
    if interval is not None:
        window.controls.interval_spin.setValue(interval)
    if max_frames is not None:
        # Demo/test mode: leave once N frames are processed, or when a file ends first.
        window.worker.limit_reached.connect(window.close, Qt.ConnectionType.QueuedConnection)
        window.worker.finished_source.connect(window.close, Qt.ConnectionType.QueuedConnection)

        def fail(text: str) -> None:
            print(f"error: {text}", file=sys.stderr)
            # Never opened (nothing was recorded): bad input. Lost while playing: a failure.
            window.request_quit(EXIT_FAILED if window.presenter.frames_shown else EXIT_BAD_INPUT)

        window.worker.source_failed.connect(fail, Qt.ConnectionType.QueuedConnection)

    # Ctrl-C and SIGTERM close the window (finalising the CSV). Python runs signal handlers
    # only between bytecodes, so a timer hands the interpreter control a few times a second.
    previous = {}
    for signum, code in ((signal.SIGINT, EXIT_INTERRUPTED), (signal.SIGTERM, EXIT_TERMINATED)):
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
