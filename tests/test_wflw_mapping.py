import numpy as np

from core.landmarks import WFLW_TO_68
from core.training.corpus.mesh_to_wflw import WFLW_FROM_MESH, resample_polyline, wflw_from_mesh


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
