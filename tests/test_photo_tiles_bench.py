"""bench/photo_tiles.py: which detections land on labelled faces."""
import argparse

import pytest

from bench.photo_tiles import labelled_hits, tile_sizes
from core.detector import Detection
from test_heldout_bench import square_face


def box(cx, cy, side=40.0):
    return Detection((cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), 0.9, ((0, 0), (0, 0)))


def test_each_label_takes_its_nearest_detection_and_the_rest_are_unexplained():
    a, b = square_face(0, 0), square_face(300, 0)         # eye distance 40: a detection counts within 40 px
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    far = box(ca[0] + 35, ca[1])                          # in range of a, but not a's nearest
    near = box(ca[0] + 5, ca[1])
    nowhere = box(150, 400)
    assert labelled_hits([a, b], [far, near, nowhere, box(cb[0], cb[1] + 10)]) == (2, 2)
    assert labelled_hits([a, a], [near]) == (1, 0)           # one detection serves one face
    assert labelled_hits([b], [box(cb[0] + 60, cb[1])]) == (0, 1)   # beyond the eye distance and half its side


def test_tile_sizes_are_read_and_bad_ones_refused():
    assert tile_sizes("640,384") == (640, 384)
    for bad in ("640;384", "640,32", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            tile_sizes(bad)


def test_a_label_takes_its_nearest_detection_not_the_first_in_range():
    """A big face whose range also covers a small neighbour's detection must not take it."""
    big, small = square_face(0, 0, eye_distance=60.0), square_face(0, 0, eye_distance=20.0)
    small = small - small.mean(axis=0) + big.mean(axis=0) + (40.0, 0.0)    # 40 px right of the big face
    on_small, on_big = box(*small.mean(axis=0), side=20), box(*big.mean(axis=0), side=20)
    assert labelled_hits([big, small], [on_small, on_big]) == (2, 0)
