"""New views of a labelled face at other head poses: the 300W-LP idea on the face mesh.

Zhu et al., "Face Alignment Across Large Poses: A 3D Solution" (CVPR 2016)
fitted a 3D face to each 300-W photo, turned it, re-rendered the image by
the mesh, and moved the landmarks with it. Here the 3D face is MediaPipe's
refined face mesh (478 vertices with depth, training/corpus/face_mesh.py):

1. The labels (dlib's 68 points) are lifted to 3D: each takes the depth the
   mesh has under it (barycentric in the mesh's triangulation; the nearest
   vertex's outside it).
2. Mesh, labels and a ring of anchors around the face (hair, ears, nearby
   background; at the head centre's depth, so they turn with the head and
   squeeze or stretch) are turned by (yaw, pitch) about the head centre and
   projected orthographically; the image border stays put.
3. The image is warped in two layers: the background (a triangulation of
   the anchors and the border: hair, ears and surroundings stretch smoothly),
   then the face, mesh triangle by mesh triangle, far ones first so the near
   side covers the far side, and triangles that turn their back to the
   camera left out (they would fold into shards).
4. Contour (jaw) points follow the visible silhouette, as in 300W-LP's
   landmark marching: after the turn, each jaw point moves along its row to
   the outermost point of the turned mesh there, plus the offset dlib's
   jaw had from the mesh's silhouette before the turn (so the jaw keeps the
   label teacher's convention, not the mesh's).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from core.rotations import rotation_xyz

JAW_LEFT = tuple(range(0, 8))       # image-left half of the jaw contour
JAW_RIGHT = tuple(range(9, 17))


@dataclass(frozen=True)
class SynthConfig:
    anchor_rings: tuple[float, ...] = (1.25, 1.7)   # ring radii in face half-extents
    anchors_per_ring: int = 24
    band: float = 0.05               # silhouette search band, in face heights


def head_centre(mesh: np.ndarray) -> np.ndarray:
    """The point the head turns about: the mesh's centre, pushed back half a face width."""
    centre = mesh.mean(axis=0)
    width = float(np.ptp(mesh[:, 0]))
    return centre + np.array([0.0, 0.0, 0.5 * width])


def turn(points: np.ndarray, centre: np.ndarray, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """Points (N, 3) turned about `centre`: yaw about the vertical axis, then pitch about the horizontal."""
    rotation = rotation_xyz(math.radians(pitch_deg), math.radians(yaw_deg), 0.0)
    return (points - centre) @ rotation.T + centre


def lift(points2d: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """2D points -> 3D, taking the mesh's depth under each (barycentric; nearest vertex outside)."""
    tri = Delaunay(mesh[:, :2])
    simplex = tri.find_simplex(points2d)
    depth = np.empty(len(points2d))
    for i, (p, s) in enumerate(zip(points2d, simplex)):
        if s >= 0:
            t = tri.transform[s]
            b = t[:2] @ (p - t[2])
            bary = np.array([b[0], b[1], 1 - b.sum()])
            depth[i] = bary @ mesh[tri.simplices[s], 2]
        else:
            depth[i] = mesh[np.argmin(np.linalg.norm(mesh[:, :2] - p, axis=1)), 2]
    return np.column_stack([points2d, depth])


def anchors(mesh: np.ndarray, cfg: SynthConfig) -> np.ndarray:
    """Rings of points around the face at the head centre's depth (they turn with the head)."""
    centre = mesh.mean(axis=0)
    half = np.ptp(mesh[:, :2], axis=0) / 2
    angles = np.linspace(0, 2 * math.pi, cfg.anchors_per_ring, endpoint=False)
    rings = [np.column_stack([centre[0] + r * half[0] * np.cos(angles), centre[1] + r * half[1] * np.sin(angles),
                              np.full(len(angles), centre[2])]) for r in cfg.anchor_rings]
    return np.vstack(rings)


def border(width: int, height: int, per_side: int = 6) -> np.ndarray:
    """Fixed points along the image border (z = +inf: never in front of anything)."""
    xs, ys = np.linspace(0, width - 1, per_side), np.linspace(0, height - 1, per_side)
    pts = [(x, 0) for x in xs] + [(x, height - 1) for x in xs] + [(0, y) for y in ys[1:-1]] + \
          [(width - 1, y) for y in ys[1:-1]]
    return np.array(pts, float)


def silhouette(points: np.ndarray, mesh: np.ndarray, side: int, band: float) -> np.ndarray:
    """For each point's row, the outermost mesh x on `side` (-1 image left, +1 right), in a band of rows."""
    height = float(np.ptp(mesh[:, 1]))
    out = points.copy()
    for i, y in enumerate(points[:, 1]):
        rows = np.abs(mesh[:, 1] - y) < band * height
        if rows.any():
            xs = mesh[rows, 0]
            out[i, 0] = xs.min() if side < 0 else xs.max()
    return out


def mesh_triangles() -> np.ndarray:
    """The face mesh's own triangles, from MediaPipe's tessellation (its edges' 3-cycles)."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION
    neighbours: dict[int, set[int]] = {}
    for a, b in FACEMESH_TESSELATION:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triangles = {tuple(sorted((a, b, c))) for a, bs in neighbours.items() for b in bs for c in bs & neighbours[b]}
    return np.array(sorted(triangles))


# The mouth opening between the inner lips (no mesh triangles there): a fan of triangles over the
# inner-lip vertices (upper 78 ... 308, lower 308 ... 78, MediaPipe's numbering).
_INNER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
MOUTH_TRIANGLES = np.array([(_INNER_LIP[0], _INNER_LIP[i], _INNER_LIP[i + 1]) for i in range(1, len(_INNER_LIP) - 1)])


def face_oval() -> list[int]:
    """Mesh vertices of the face's outline (MediaPipe's FACE_OVAL)."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL
    return sorted({v for edge in FACEMESH_FACE_OVAL for v in edge})


def signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (points[triangles[:, i]] for i in range(3))
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def warp_triangles(image: np.ndarray, src: np.ndarray, dst: np.ndarray, triangles: np.ndarray,
                   order: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Each triangle's pixels from src to dst (affine per triangle), drawn in `order` onto `out`."""
    h, w = image.shape[:2]
    out = np.zeros_like(image) if out is None else out
    for t in order:
        s, d = src[triangles[t]].astype(np.float32), dst[triangles[t]].astype(np.float32)
        x0, y0 = np.floor(d.min(0)).astype(int)
        x1, y1 = np.ceil(d.max(0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        if abs(float(np.cross(d[1] - d[0], d[2] - d[0]))) < 1e-3:
            continue                                     # edge-on: nothing to draw
        local = d - (x0, y0)
        matrix = cv2.getAffineTransform(s, local.astype(np.float32))
        patch = cv2.warpAffine(image, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round(local).astype(np.int32), 1, lineType=cv2.LINE_8)
        region = out[y0:y1, x0:x1]
        region[mask > 0] = patch[mask > 0]
    return out


def synthesize(image: np.ndarray, labels: np.ndarray, mesh: np.ndarray, yaw_deg: float, pitch_deg: float = 0.0,
               cfg: SynthConfig = SynthConfig()) -> tuple[np.ndarray, np.ndarray]:
    """The face of `image` (RGB) turned by (yaw, pitch) degrees; returns (new image, its 68 labels)."""
    h, w = image.shape[:2]
    centre = head_centre(mesh)
    ring = anchors(mesh, cfg)
    # Anchors beyond the image would fold against the fixed border: keep those well inside it.
    inside = (ring[:, 0] > 2) & (ring[:, 0] < w - 3) & (ring[:, 1] > 2) & (ring[:, 1] < h - 3)
    ring = ring[inside]
    fixed = border(w, h)
    labels3d = lift(labels, mesh)

    # The jaw's offset from the mesh's silhouette before the turn: dlib's convention, kept after it.
    jaw = list(JAW_LEFT) + list(JAW_RIGHT)
    before = np.vstack([silhouette(labels3d[list(JAW_LEFT)], mesh, -1, cfg.band),
                        silhouette(labels3d[list(JAW_RIGHT)], mesh, +1, cfg.band)])
    offset = labels3d[jaw, :2] - before[:, :2]

    turned_mesh = turn(mesh, centre, yaw_deg, pitch_deg)
    turned_labels = turn(labels3d, centre, yaw_deg, pitch_deg)
    after = np.vstack([silhouette(turned_labels[list(JAW_LEFT)], turned_mesh, -1, cfg.band),
                       silhouette(turned_labels[list(JAW_RIGHT)], turned_mesh, +1, cfg.band)])
    new_labels = turned_labels[:, :2].copy()
    new_labels[jaw] = after[:, :2] + offset
    new_labels[8] = turned_labels[8, :2]

    # Background: the face's outline, the anchors and the border; everything around the face
    # stretches smoothly with the outline. Triangles inside the outline are left to the face layer.
    # Under it, the anchors and border alone: a smooth stretch that never folds, for whatever the
    # outline layer leaves uncovered.
    ring_turned = turn(ring, centre, yaw_deg, pitch_deg)
    base_src, base_dst = np.vstack([ring[:, :2], fixed]), np.vstack([ring_turned[:, :2], fixed])
    base_triangles = Delaunay(base_src).simplices
    out = warp_triangles(image, base_src, base_dst, base_triangles, np.arange(len(base_triangles)))
    oval = face_oval()
    bg_src = np.vstack([mesh[oval, :2], ring[:, :2], fixed])
    bg_dst = np.vstack([turned_mesh[oval, :2], ring_turned[:, :2], fixed])
    bg_triangles = Delaunay(bg_src).simplices
    bg_triangles = bg_triangles[(bg_triangles >= len(oval)).any(axis=1)]
    kept = np.sign(signed_areas(bg_src, bg_triangles)) == np.sign(signed_areas(bg_dst, bg_triangles))
    bg_triangles = bg_triangles[kept]
    out = warp_triangles(image, bg_src, bg_dst, bg_triangles, np.arange(len(bg_triangles)), out)
    # Face: the mesh's triangles that still face the camera, far ones first.
    triangles = np.vstack([mesh_triangles(), MOUTH_TRIANGLES])
    before_area, after_area = signed_areas(mesh[:, :2], triangles), signed_areas(turned_mesh[:, :2], triangles)
    facing = (np.sign(before_area) == np.sign(after_area)) & (np.abs(after_area) > 0.05)
    triangles = triangles[facing]
    order = np.argsort(-turned_mesh[triangles, 2].mean(axis=1))
    out = warp_triangles(image, mesh[:, :2], turned_mesh[:, :2], triangles, order, out)
    return out, new_labels.astype(np.float32)
