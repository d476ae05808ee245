import numpy as np

from core.landmarks import WFLW_TO_68
from training.corpus.mesh_to_wflw import WFLW_FROM_MESH, resample_polyline, wflw_from_mesh


def test_table_covers_98_distinct_points_with_valid_mesh_indices():
    covered = [i for idx, _, _ in WFLW_FROM_MESH for i in idx]
    assert sorted(covered) == list(range(98))
    for idx, polyline, fractions in WFLW_FROM_MESH:
        assert len(idx) == len(fractions)
        assert all(0 <= v < 478 for v in polyline)
        assert all(0.0 <= f <= 1.0 for f in fractions)


def test_wflw_to_68_correspondence_is_68_distinct_points():
    assert len(WFLW_TO_68) == 68 and len(set(WFLW_TO_68)) == 68 and max(WFLW_TO_68) < 98


def test_resampling_a_straight_line():
    line = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]])
    assert np.allclose(resample_polyline(line, (0.0, 0.5, 1.0)), [[0, 0], [2, 0], [4, 0]])


def test_mapping_of_a_synthetic_mesh_keeps_corners_on_their_vertices():
    mesh = np.random.default_rng(0).uniform(0, 100, (478, 2))
    out = wflw_from_mesh(mesh)
    assert np.allclose(out[60], mesh[33]) and np.allclose(out[64], mesh[133])     # eye corners
    assert np.allclose(out[76], mesh[61]) and np.allclose(out[82], mesh[291])     # mouth corners
    assert np.allclose(out[96], mesh[468]) and np.allclose(out[97], mesh[473])    # pupils


def test_consistent_98_labels_take_the_teachers_68_and_carry_the_rest_along():
    from training.corpus.label_98 import ANCHORS_98, consistent_98
    rng = np.random.default_rng(1)
    mesh98 = rng.uniform(0, 100, (98, 2))
    # The teacher's 68 are the mesh's shared points moved by a similarity: the other 30 move with it.
    angle, scale, shift = 0.3, 1.4, np.array([12.0, -7.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * scale
    teacher68 = mesh98[list(WFLW_TO_68)] @ rot.T + shift
    out = consistent_98(mesh98, teacher68)
    assert np.allclose(out[list(WFLW_TO_68)], teacher68, atol=1e-4)
    assert np.allclose(out, mesh98 @ rot.T + shift, atol=1e-3)
    assert len(ANCHORS_98) == 30 and not set(ANCHORS_98) & set(WFLW_TO_68)
    assert all(a in WFLW_TO_68 and b in WFLW_TO_68 for a, b in ANCHORS_98.values())
