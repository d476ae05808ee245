import numpy as np
import pytest

from core.landmarks import LAYOUT_68, LAYOUT_98, flip_points, layout_for


@pytest.mark.parametrize("layout", [LAYOUT_68, LAYOUT_98])
def test_flip_permutation_is_an_involution(layout):
    perm = np.array(layout.flip_permutation)
    assert sorted(perm) == list(range(layout.num_points))
    assert (perm[perm] == np.arange(layout.num_points)).all()


@pytest.mark.parametrize("layout", [LAYOUT_68, LAYOUT_98])
def test_flipping_twice_gives_back_the_points(layout):
    pts = np.random.default_rng(0).uniform(0, 200, (layout.num_points, 2))
    assert np.allclose(flip_points(flip_points(pts, 200, layout), 200, layout), pts)


def test_flip_swaps_the_eyes_68():
    pts = np.zeros((68, 2))
    pts[36] = (60, 100)      # image-left outer eye corner
    pts[45] = (140, 100)
    flipped = flip_points(pts, 200, LAYOUT_68)
    # After mirroring, the point now at index 36 is the mirror of the old 45.
    assert np.allclose(flipped[36], (200 - 1 - 140, 100))
    assert np.allclose(flipped[45], (200 - 1 - 60, 100))


def test_groups_cover_every_point_once():
    for layout in (LAYOUT_68, LAYOUT_98):
        covered = [i for idx, _ in layout.polylines() for i in idx]
        extra = {96, 97} if layout.num_points == 98 else set()     # pupils are single points
        assert sorted(covered + sorted(extra)) == list(range(layout.num_points))


def test_unknown_layout():
    with pytest.raises(ValueError, match="68 or 98"):
        layout_for(5)
