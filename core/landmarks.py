"""Landmark layouts: the 68-point iBUG 300-W and 98-point WFLW conventions.

One place holds, per layout, the groups joined by lines in the overlay, the
horizontal-flip index permutation (needed for flip augmentation: after a
mirror, the left eye's points become the right eye's) and the two outer eye
corners that normalise the NME.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    name: str
    num_points: int
    # (first, last, closed): the overlay joins first..last, and last->first if closed.
    groups: tuple[tuple[int, int, bool], ...]
    flip_permutation: tuple[int, ...]
    outer_eye_corners: tuple[int, int]

    def polylines(self) -> list[tuple[list[int], bool]]:
        return [(list(range(a, b + 1)), closed) for a, b, closed in self.groups]


def _flip_68() -> tuple[int, ...]:
    perm = list(range(68))
    pairs = [(i, 16 - i) for i in range(8)]                     # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]               # brows
    pairs += [(31, 35), (32, 34)]                               # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lip
    pairs += [(60, 64), (61, 63), (65, 67)]                     # inner lip
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return tuple(perm)


def _flip_98() -> tuple[int, ...]:
    perm = list(range(98))
    pairs = [(i, 32 - i) for i in range(16)]                    # jaw
    # brows: 33-37 upper (outer->inner) + 38-41 lower (inner->outer), mirrored by 42-46 / 47-50
    pairs += [(33 + i, 46 - i) for i in range(5)]
    pairs += [(38 + i, 50 - i) for i in range(4)]
    pairs += [(55, 59), (56, 58)]                               # nostrils
    # eyes: 60-67 start at the outer corner, 68-75 at the inner one
    pairs += [(60, 72), (61, 71), (62, 70), (63, 69), (64, 68), (65, 75), (66, 74), (67, 73)]
    pairs += [(76, 82), (77, 81), (78, 80), (83, 87), (84, 86)]  # outer lip
    pairs += [(88, 92), (89, 91), (93, 95)]                     # inner lip
    pairs += [(96, 97)]                                         # pupils
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return tuple(perm)


LAYOUT_68 = Layout(
    name="ibug68",
    num_points=68,
    groups=((0, 16, False), (17, 21, False), (22, 26, False), (27, 30, False), (31, 35, False),
            (36, 41, True), (42, 47, True), (48, 59, True), (60, 67, True)),
    flip_permutation=_flip_68(),
    outer_eye_corners=(36, 45),
)

LAYOUT_98 = Layout(
    name="wflw98",
    num_points=98,
    groups=((0, 32, False), (33, 41, True), (42, 50, True), (51, 54, False), (55, 59, False),
            (60, 67, True), (68, 75, True), (76, 87, True), (88, 95, True)),
    flip_permutation=_flip_98(),
    outer_eye_corners=(60, 72),
)

LAYOUTS = {68: LAYOUT_68, 98: LAYOUT_98}


def layout_for(num_points: int) -> Layout:
    try:
        return LAYOUTS[num_points]
    except KeyError:
        raise ValueError(f"unsupported landmark count {num_points}; expected 68 or 98") from None


def flip_points(points: np.ndarray, image_width: float, layout: Layout) -> np.ndarray:
    """Mirror (N, 2) points about the vertical axis of an image of the given width.

    Pixel centres are at integer coordinates, so x maps to (width - 1 - x).
    """
    flipped = points.copy()
    flipped[:, 0] = image_width - 1 - flipped[:, 0]
    return flipped[list(layout.flip_permutation)]


def interocular(points: np.ndarray, layout: Layout) -> float:
    """Outer-eye-corner distance: the NME normaliser of 300-W and WFLW."""
    a, b = layout.outer_eye_corners
    return float(np.linalg.norm(points[a] - points[b]))


# Face regions of the 68-point layout, for per-region error tables.
REGIONS_68: dict[str, range] = {"jaw": range(0, 17), "brows": range(17, 27), "nose": range(27, 36),
                                "eyes": range(36, 48), "mouth": range(48, 68)}

# WFLW index of each iBUG-68 point (the standard correspondence): the 68 points
# a 98-point answer shares with a 68-point one.
WFLW_TO_68: tuple[int, ...] = (
    tuple(range(0, 33, 2)) + (33, 34, 35, 36, 37, 42, 43, 44, 45, 46) + tuple(range(51, 60))
    + (60, 61, 63, 64, 65, 67, 68, 69, 71, 72, 73, 75) + tuple(range(76, 96)))


def as_68(points: np.ndarray) -> np.ndarray:
    """The 68 iBUG points of a 68- or 98-point answer."""
    if len(points) == 68:
        return points
    if len(points) == 98:
        return points[list(WFLW_TO_68)]
    raise ValueError(f"unsupported landmark count {len(points)}; expected 68 or 98")
