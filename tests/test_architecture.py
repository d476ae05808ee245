"""The folder listing is the architecture: these checks keep it true.

- core/ never imports Qt (the window lives in app/ alone), nor the training toolchain;
- training/ never imports Qt or the window; app/ never imports training/;
- the CSV writer and the overlay need no torch (they only name result types);
- bench/ takes the label teacher from training/teachers.py, never the corpus builder and its fetchers;
- no code writes source code into core/ (generated data lives in assets/ or weights/).
Each runs in a fresh interpreter, so nothing imported by other tests hides a violation.
"""
import pkgutil
import subprocess
import sys
from pathlib import Path

import core
import training

ROOT = Path(__file__).resolve().parent.parent


def fresh_import(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))


def training_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(training.__path__, "training."))


def app_modules() -> list[str]:
    return sorted(f"app.{p.stem}" for p in (ROOT / "app").glob("*.py") if p.stem != "__init__")


def modules_loaded_by(modules: list[str], prefixes: tuple[str, ...]) -> subprocess.CompletedProcess:
    """Import `modules` in a fresh interpreter; fail (listing them) if any module starting
    with one of `prefixes` got loaded."""
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            f"bad = sorted(m for m in sys.modules if m.startswith({prefixes!r}))\n"
            "print(bad)\n"
            "sys.exit(1 if bad else 0)")
    return fresh_import(code)


QT = ("PySide6", "shiboken6", "pyqtgraph")


def test_no_core_module_imports_qt_or_training():
    modules = core_modules()
    assert "core.pipeline" in modules and not any(m.startswith("core.training") for m in modules)
    result = modules_loaded_by(modules, QT + ("training", "app"))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_training_is_at_the_top_level_and_never_imports_the_window():
    modules = training_modules()
    assert {"training.train", "training.teachers", "training.corpus.build", "training.export"} <= set(modules)
    assert not (ROOT / "core" / "training").exists()
    result = modules_loaded_by(modules, QT + ("app",))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_the_window_never_imports_the_training_toolchain():
    modules = app_modules()
    assert "app.main_window" in modules
    result = modules_loaded_by(modules, ("training",))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_bench_takes_the_teacher_from_training_teachers_not_the_builder():
    offenders = [p.name for p in (ROOT / "bench").glob("*.py") if "training.corpus.build" in p.read_text()]
    assert offenders == []


def test_nothing_writes_source_code_into_core():
    """Generated data is data: the mean face is assets/mean_face_68.json, read by core/mean_face.py."""
    assert (ROOT / "assets" / "mean_face_68.json").is_file() and not (ROOT / "core" / "mean_face_68.py").exists()
    for path in (ROOT / "training").rglob("*.py"):
        text = path.read_text()
        assert '"core" /' not in text and "core/" + "mean_face_68.py" not in text, path


def test_recorder_and_overlay_do_not_import_torch():
    result = modules_loaded_by(["core.recorder", "core.overlay", "core.results"], ("torch",))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_every_bench_script_imports_and_its_options_parse():
    """bench/ is run by hand, so nothing else would notice a script that no longer even parses
    (bench/runtimes.py once shipped with a syntax error) or whose options no longer build
    (bench/read_ahead.py read a default from a config field that had become a factory)."""
    import bench
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__, "bench."))
    assert "bench.runtimes" in names and "bench.pipeline_stages" in names
    code = ("import contextlib, importlib, io\n"
            f"for name in {names!r}:\n"
            "    main = importlib.import_module(name).main\n"
            "    try:\n"
            "        with contextlib.redirect_stdout(io.StringIO()):\n"
            "            main(['--help'])\n"
            "    except SystemExit as exc:\n"
            "        assert exc.code == 0, (name, exc.code)\n"
            "    else:\n"
            "        raise AssertionError(name + ': --help did not stop at its options')\n")
    result = fresh_import(code)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_default_headless_run_over_a_photo_never_imports_torch_matplotlib_or_sounddevice(tmp_path):
    """The default runtime (auto: the ONNX export shipped beside the weights) reads the model's config from it
    (core/weights.py): torch (~0.8 s of start-up) is for --runtime torch, export and training.
    MediaPipe's package import would load matplotlib and sounddevice (~0.6 s) for helpers the
    app never calls (core/mediapipe_import.py)."""
    from core.images import write_image
    from core.synthetic_video import astronaut_rgb
    photo, out = tmp_path / "face.jpg", tmp_path / "face.csv"
    write_image(photo, astronaut_rgb())
    code = ("import runpy, sys\n"
            f"sys.argv = ['main.py', '--headless', '--source', {str(photo)!r}, '--csv', {str(out)!r}]\n"
            "try:\n"
            "    runpy.run_path('main.py', run_name='__main__')\n"
            "except SystemExit as exc:\n"
            "    assert exc.code == 0, exc.code\n"
            "loaded = sorted(m for m in sys.modules if m in ('torch', 'matplotlib', 'sounddevice')\n"
            "                or m.startswith(('torch.', 'training', 'matplotlib.')))\n"
            "print(loaded)\n"
            "sys.exit(1 if loaded else 0)\n")
    result = fresh_import(code)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert len(out.read_text().splitlines()) == 2                     # the header and the one face


def test_the_window_talks_to_its_worker_only_through_commands_and_signals():
    """The GUI thread used to read `worker.config`, which the worker replaces: a race. Every use
    of the worker in app/ outside app/processing.py must be a command, a signal or thread control."""
    import ast
    import inspect

    from PySide6.QtCore import QThread, Signal

    from app.processing import ProcessingThread
    signals = {name for name, value in vars(ProcessingThread).items() if isinstance(value, Signal)}
    commands = {name for name, value in vars(ProcessingThread).items()
                if inspect.isfunction(value) and not name.startswith("_")} - {"run"}
    thread_control = {"start", "wait", "isRunning", "finished"}
    assert {"frame_ready", "model_loaded", "message"} <= signals and {"submit", "set_model"} <= commands
    assert set(dir(QThread)) >= thread_control
    allowed = signals | commands | thread_control
    used = []
    for path in (ROOT / "app").glob("*.py"):
        if path.name == "processing.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "worker":
                used.append((path.name, node.attr))
    assert used, "the window should use its worker"
    assert [u for u in used if u[1] not in allowed] == []
