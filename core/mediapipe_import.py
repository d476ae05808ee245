"""Import MediaPipe without the plotting and audio libraries it loads for helpers we never call.

Any `import mediapipe...` runs the package's `__init__`, which imports every solution and
task, and with them `matplotlib.pyplot` (for `drawing_utils.plot_landmarks`) and
`sounddevice` (for the audio tasks' microphone). On this project's machine that is about
0.6 s of mediapipe's ~1 s import, paid at every start of the app and of every headless run,
for two libraries the app never calls (`python -X importtime -c "import mediapipe"`;
`python -m bench.startup --also BEFORE` for the whole start-up).

`import_mediapipe_solution` puts a deferred stand-in for each of those modules in
`sys.modules` for the duration of the import only (when the real one is not loaded yet), and
takes the stand-ins out again afterwards, so a later `import matplotlib.pyplot` anywhere in
the process gets the real module. The reference mediapipe keeps (`drawing_utils.plt`,
`audio_record.sd`) loads the real module on its first attribute read, so mediapipe's own
helpers still work if someone calls them.

Imports are not thread-safe against this: another thread importing matplotlib during the
mediapipe import could receive a stand-in. The app imports mediapipe once, when the first
detector is made.
"""
from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager

DEFERRED_MODULES = ("matplotlib", "matplotlib.pyplot", "sounddevice")
_lock = threading.Lock()


class DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is read, then imports the real one."""

    def __init__(self, name: str) -> None:
        super().__init__(name, f"deferred stand-in for {name} (core.mediapipe_import)")
        self.__dict__["_deferred_real"] = None

    def _deferred_load(self) -> types.ModuleType:
        real = self.__dict__["_deferred_real"]
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
            self.__dict__["_deferred_real"] = real
        return real

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)     # import machinery probing (__path__, __spec__ ...) must not load it
        return getattr(self._deferred_load(), attr)


@contextmanager
def deferred_imports(names: tuple[str, ...] = DEFERRED_MODULES) -> Iterator[None]:
    """Within the block, imports of `names` that are not loaded yet give deferred stand-ins."""
    with _lock:
        placed: dict[str, DeferredModule] = {}
        for name in names:
            if name not in sys.modules:
                placed[name] = sys.modules[name] = DeferredModule(name)
        for name, stub in placed.items():
            parent, _, child = name.rpartition(".")
            if parent in placed:                       # `import a.b` reads b from a: give it the stand-in
                placed[parent].__dict__[child] = stub
        try:
            yield
        finally:
            for name, stub in placed.items():
                if sys.modules.get(name) is stub:
                    del sys.modules[name]


def import_mediapipe_solution(name: str) -> types.ModuleType:
    """`mediapipe.python.solutions.<name>`, imported without matplotlib and sounddevice."""
    full = f"mediapipe.python.solutions.{name}"
    if "mediapipe" in sys.modules:
        return importlib.import_module(full)
    with deferred_imports():
        return importlib.import_module(full)
