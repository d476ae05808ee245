"""The folder listing is the architecture: these checks keep it true.

- core/ never imports Qt (the window lives in app/ alone);
- the CSV writer and the overlay need no torch (they only name result types);
- the run-time library never pulls in the training toolchain (core/training/).
Each runs in a fresh interpreter, so nothing imported by other tests hides a violation.
"""
import pkgutil
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parent.parent


def fresh_import(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))


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


def test_no_core_module_imports_qt():
    modules = core_modules()
    assert "core.pipeline" in modules and "core.training.train" in modules
    result = modules_loaded_by(modules, ("PySide6", "shiboken6", "pyqtgraph"))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_recorder_and_overlay_do_not_import_torch():
    result = modules_loaded_by(["core.recorder", "core.overlay", "core.results"], ("torch",))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_the_runtime_library_does_not_import_the_training_toolchain():
    runtime = [m for m in core_modules() if not m.startswith("core.training")]
    result = modules_loaded_by(runtime, ("core.training",))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_every_bench_script_imports_and_has_a_main():
    """bench/ is run by hand, so nothing else would notice a script that no longer even parses
    (bench/runtimes.py once shipped with a syntax error)."""
    import bench
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__, "bench."))
    assert "bench.runtimes" in names and "bench.pipeline_stages" in names
    code = ("import importlib\n"
            f"for name in {names!r}:\n"
            "    assert callable(importlib.import_module(name).main), name\n")
    result = fresh_import(code)
    assert result.returncode == 0, result.stderr[-2000:]
