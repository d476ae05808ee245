"""98 WFLW-layout points from MediaPipe's 478-point face mesh: the one mapping table.

No offline 98-point model or data exists, so the 98-point labels are built
from the face mesh (mediapipe 0.10.21 ships it, Apache-2.0). Each WFLW group
is a polyline of mesh vertices, resampled by arc length where WFLW is
denser or sparser than the mesh; a WFLW corner is a mesh vertex itself.
Indices below are the mesh's canonical vertex ids ("right" = the subject's
right = image left, as in WFLW's own order, which starts on the image left).

Checked two ways (python -m training.corpus.label_98 --check): against dlib's
68 points on the corpus through the standard WFLW->68 correspondence, and
by eye on a contact sheet of overlays (weights/wflw98_contact_sheet.png).
"""
from __future__ import annotations

import numpy as np

# (WFLW indices, mesh polyline, arc-length fractions at which to sample it)
# From temple (127) to temple (356): of the contours tried on the corpus (234->454,
# 127->356, 162->389, 93->323, trimmed or not) this one agrees best with dlib's
# 68-point jaw (mean 0.074 interocular against 0.115 for 234->454).
_JAW_MESH = (127, 234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361,
             323, 454, 356)


def _even(n: int, start: float = 0.0, end: float = 1.0) -> tuple[float, ...]:
    return tuple(float(v) for v in np.linspace(start, end, n))


WFLW_FROM_MESH: tuple[tuple[range, tuple[int, ...], tuple[float, ...]], ...] = (
    # jaw 0-32: the face-oval contour from the image-left temple round the chin
    (range(0, 33), _JAW_MESH, _even(33)),
    # right brow (image left): 33-37 upper edge outer->inner, 38-41 lower edge inner->outer
    (range(33, 38), (70, 63, 105, 66, 107), _even(5)),
    (range(38, 42), (55, 65, 52, 53, 46), _even(4, 0.0, 0.9)),
    # left brow (image right): 42-46 upper edge inner->outer, 47-50 lower edge outer->inner
    (range(42, 47), (336, 296, 334, 293, 300), _even(5)),
    (range(47, 51), (276, 283, 282, 295, 285), _even(4, 0.1, 1.0)),
    # nose: 51-54 bridge top->tip, 55-59 lower edge image-left->right
    (range(51, 55), (168, 6, 197, 195, 5, 4, 1), _even(4)),
    (range(55, 60), (98, 97, 2, 326, 327), _even(5)),
    # right eye (image left): 60 outer corner, 61-63 upper lid, 64 inner corner, 65-67 lower lid
    (range(60, 65), (33, 246, 161, 160, 159, 158, 157, 173, 133), _even(5)),
    (range(65, 68), (133, 155, 154, 153, 145, 144, 163, 7, 33), (0.25, 0.5, 0.75)),
    # left eye (image right): 68 inner corner, 69-71 upper lid, 72 outer corner, 73-75 lower lid
    (range(68, 73), (362, 398, 384, 385, 386, 387, 388, 466, 263), _even(5)),
    (range(73, 76), (263, 249, 390, 373, 374, 380, 381, 382, 362), (0.25, 0.5, 0.75)),
    # outer lip: 76 left corner, 77-81 upper edge, 82 right corner, 83-87 lower edge back
    (range(76, 83), (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291), _even(7)),
    (range(83, 88), (291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 61), _even(7)[1:-1]),
    # inner lip: 88 left corner, 89-91 upper, 92 right corner, 93-95 lower back
    (range(88, 93), (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308), _even(5)),
    (range(93, 96), (308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78), (0.25, 0.5, 0.75)),
    # pupils: the iris centres of the refined mesh
    (range(96, 97), (468,), (0.0,)),
    (range(97, 98), (473,), (0.0,)),
)

def resample_polyline(points: np.ndarray, fractions: tuple[float, ...]) -> np.ndarray:
    """Points at the given fractions of a polyline's arc length (2D or 3D)."""
    if len(points) == 1:
        return np.repeat(points, len(fractions), axis=0)
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    targets = np.asarray(fractions) * cum[-1]
    return np.stack([np.interp(targets, cum, points[:, d]) for d in range(points.shape[1])], axis=1)


def wflw_from_mesh(mesh: np.ndarray) -> np.ndarray:
    """(478, D) refined face-mesh points (D = 2, or 3 with depth) -> (98, D) WFLW points."""
    if mesh.shape[0] < 478:
        raise ValueError(f"need the refined 478-point mesh (with irises), got {mesh.shape[0]} points")
    out = np.zeros((98, mesh.shape[1]), np.float32)
    for wflw_idx, polyline, fractions in WFLW_FROM_MESH:
        out[list(wflw_idx)] = resample_polyline(mesh[list(polyline)].astype(np.float64), fractions)
    return out
