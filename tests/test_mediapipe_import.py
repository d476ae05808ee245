"""MediaPipe is imported without matplotlib and sounddevice (core/mediapipe_import.py), and
nothing else in the process notices: the stand-ins live only during the import, load the real
module when used, and never replace a module that was already loaded.
Each check runs in a fresh interpreter, so imports made by other tests cannot hide a failure."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_fresh(code: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result


def test_a_stand_in_lives_only_inside_the_block_and_loads_the_real_module_when_used():
    run_fresh(
        "import sys\n"
        "from core.mediapipe_import import DeferredModule, deferred_imports\n"
        "assert 'colorsys' not in sys.modules\n"
        "with deferred_imports(('colorsys',)):\n"
        "    import colorsys as c\n"
        "    assert isinstance(c, DeferredModule)\n"
        "assert 'colorsys' not in sys.modules\n"
        "assert c.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)\n"     # the real function, loaded on first use
        "import colorsys\n"
        "assert not isinstance(colorsys, DeferredModule) and colorsys.rgb_to_hsv is c.rgb_to_hsv\n")


def test_a_submodule_imported_as_a_dotted_name_gets_its_stand_in_through_the_parents():
    run_fresh(
        "import sys\n"
        "from core.mediapipe_import import DeferredModule, deferred_imports\n"
        "assert 'xml' not in sys.modules\n"
        "with deferred_imports(('xml', 'xml.dom')):\n"
        "    import xml.dom as d\n"
        "    assert isinstance(d, DeferredModule)\n"
        "assert 'xml' not in sys.modules and 'xml.dom' not in sys.modules\n"
        "assert d.Node.ELEMENT_NODE == 1\n"
        "import xml.dom\n"
        "assert not isinstance(xml.dom, DeferredModule) and not isinstance(xml, DeferredModule)\n")


def test_a_module_loaded_before_is_never_replaced():
    run_fresh(
        "import colorsys\n"
        "from core.mediapipe_import import deferred_imports\n"
        "with deferred_imports(('colorsys',)):\n"
        "    import colorsys as again\n"
        "assert again is colorsys\n")


def test_mediapipe_comes_without_matplotlib_and_sounddevice_and_its_drawing_helper_still_works():
    run_fresh(
        "import sys\n"
        "from core.mediapipe_import import DeferredModule, import_mediapipe_solution\n"
        "face_detection = import_mediapipe_solution('face_detection')\n"
        "assert callable(face_detection.FaceDetection)\n"
        "loaded = [m for m in ('matplotlib', 'matplotlib.pyplot', 'sounddevice') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "from mediapipe.python.solutions import drawing_utils\n"
        "figure = drawing_utils.plt.figure\n"                                  # mediapipe's own reference
        "import matplotlib.pyplot as plt\n"
        "assert not isinstance(plt, DeferredModule) and figure is plt.figure\n")


def test_mediapipe_loaded_with_matplotlib_already_there_keeps_the_real_one():
    run_fresh(
        "import matplotlib.pyplot as plt\n"
        "from core.mediapipe_import import import_mediapipe_solution\n"
        "import_mediapipe_solution('face_detection')\n"
        "from mediapipe.python.solutions import drawing_utils\n"
        "assert drawing_utils.plt is plt\n")
