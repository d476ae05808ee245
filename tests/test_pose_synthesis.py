"""Pose synthesis keeps the labels on the face: the image and the labels move together."""
import numpy as np
import pytest

from core.landmarks import LAYOUT_68
from training.pose_synthesis import head_centre, lift, synthesize, turn


@pytest.fixture(scope="module")
def face(astronaut):
    """A real face, its mesh (MediaPipe) and its 68 points (the shipped model's, as the labels)."""
    from core.config import PipelineConfig
    from core.pipeline import LandmarkPipeline
    from training.corpus.face_mesh import FaceMesh3D
    pipe = LandmarkPipeline(PipelineConfig(detector_range="full", runtime="onnxruntime"))
    labels = pipe.process(astronaut, still=True).faces[0].points.astype(np.float64)
    mesher = FaceMesh3D()
    mesh = mesher.mesh(astronaut, labels)
    mesher.close()
    pipe.close()
    assert mesh is not None and mesh.shape == (478, 3)
    return astronaut, labels, mesh


def test_turning_there_and_back_is_the_identity():
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 200, (50, 3))
    centre = points.mean(0)
    back = turn(turn(points, centre, 35.0, -12.0), centre, 0.0, 12.0)
    assert np.allclose(turn(back, centre, -35.0, 0.0), points)


def test_a_known_turn_moves_points_as_a_rotation_does():
    centre = np.array([100.0, 100.0, 50.0])
    nose = centre + [0.0, 0.0, -40.0]                       # 40 px in front of the turning axis
    turned = turn(nose[None], centre, 30.0, 0.0)[0]
    assert np.allclose(turned, centre + [-40 * np.sin(np.radians(30)), 0.0, -40 * np.cos(np.radians(30))])


def test_no_turn_gives_back_the_labels_and_the_face(face):
    image, labels, mesh = face
    view, moved = synthesize(image, labels, mesh, 0.0, 0.0)
    assert np.abs(moved - labels).max() < 0.5
    x0, y0 = labels.min(0).astype(int) + 5
    x1, y1 = labels.max(0).astype(int) - 5
    assert np.abs(view[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1].astype(int)).mean() < 4


@pytest.mark.parametrize("yaw,pitch", [(30.0, 0.0), (-40.0, 10.0), (20.0, -15.0)])
def test_labels_stay_on_the_features_they_mark(face, yaw, pitch):
    """Dots painted on the eye, nose and mouth points before the turn are found under the
    turned labels after it: the image warp and the label transform agree."""
    image, labels, mesh = face
    marked = image.copy()
    inner = list(range(27, 68))                             # nose, eyes, mouth (the jaw marches)
    for x, y in labels[inner]:
        marked[int(round(y)) - 1:int(round(y)) + 2, int(round(x)) - 1:int(round(x)) + 2] = (255, 0, 255)
    view, moved = synthesize(marked, labels, mesh, yaw, pitch)
    magenta = (view[:, :, 0] > 200) & (view[:, :, 1] < 80) & (view[:, :, 2] > 200)
    ys, xs = np.nonzero(magenta)
    dots = np.column_stack([xs, ys]).astype(float)
    iod = np.linalg.norm(labels[36] - labels[45])
    visible = [i for i in inner if np.linalg.norm(dots - moved[i], axis=1).min() < 0.04 * iod]
    assert len(visible) >= 0.8 * len(inner)                 # a few may be hidden behind the nose
    assert np.linalg.norm(moved[36] - moved[45]) < np.linalg.norm(labels[36] - labels[45])   # foreshortened


def test_the_jaw_follows_the_silhouette(face):
    """Turned towards the image's left, the left half of the jaw stays on the face's outer edge:
    no point of the turned mesh lies further out along those rows."""
    image, labels, mesh = face
    _, moved = synthesize(image, labels, mesh, 35.0, 0.0)
    centre = head_centre(mesh)
    turned_mesh = turn(mesh, centre, 35.0, 0.0)
    for j in range(0, 7):
        rows = np.abs(turned_mesh[:, 1] - moved[j, 1]) < 0.05 * np.ptp(mesh[:, 1])
        outermost = turned_mesh[rows, 0].min()
        assert moved[j, 0] <= outermost + 0.15 * np.linalg.norm(labels[36] - labels[45])
    assert LAYOUT_68.num_points == len(moved)


def test_lifting_takes_the_depth_under_each_point(face):
    _, labels, mesh = face
    lifted = lift(labels, mesh)
    assert np.allclose(lifted[:, :2], labels)
    assert lifted[30, 2] < lifted[36, 2]                     # the nose tip is nearer than the eye corner
