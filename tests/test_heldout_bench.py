"""bench/heldout_photos.py: the issues' held-out-photo measure, for whoever holds the photos."""
import json

import numpy as np
import pytest

from bench.heldout_photos import labels_of, load_labels, main, manifest_photos, match_faces, read_pts, summarise
from core.images import write_image


def hand_placed_face(right_outer_eye, left_outer_eye) -> np.ndarray:
    """The mean face's 68 points (front view of assets/mean_face_68.json) moved, turned and scaled
    so that its outer eye corners (points 36 and 45) land where they were marked by hand."""
    from pathlib import Path
    data = json.loads((Path(__file__).resolve().parent.parent / "assets" / "mean_face_68.json").read_text())
    face = np.asarray(data["points_mm"], dtype=np.float64)[:, :2]
    a, b = face[36], face[45]
    p, q = np.asarray(right_outer_eye, float), np.asarray(left_outer_eye, float)
    src, dst = complex(*(b - a)), complex(*(q - p))
    z = (face[:, 0] - a[0] + 1j * (face[:, 1] - a[1])) * (dst / src) + complex(*p)
    return np.stack([z.real, z.imag], axis=1)


def square_face(x0, y0, eye_distance=40.0) -> np.ndarray:
    """68 points whose outer eye corners are `eye_distance` apart; the rest spread below them."""
    points = np.column_stack([np.linspace(0, eye_distance, 68), np.linspace(0, eye_distance, 68) ** 0.5 * 5])
    points[36], points[45] = (0.0, 0.0), (eye_distance, 0.0)
    return points + (x0, y0)


def write_pts(path, points):
    body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in points)
    path.write_text(f"version: 1\nn_points: {len(points)}\n{{\n{body}\n}}\n")


def test_pts_files_pair_with_their_photos_one_face_or_several(tmp_path):
    for name in ("group.jpg", "solo.png", "x_1.jpg"):
        (tmp_path / name).write_bytes(b"")
    a, b, c, d = (square_face(10 * i, 0) for i in range(4))
    write_pts(tmp_path / "group_1.pts", a)
    write_pts(tmp_path / "group_2.pts", b)
    write_pts(tmp_path / "solo.pts", c)
    write_pts(tmp_path / "x_1.pts", d)                   # a photo whose own name ends in _1
    labels = load_labels(tmp_path)
    assert sorted(labels) == ["group.jpg", "solo.png", "x_1.jpg"]
    assert len(labels["group.jpg"]) == 2 and len(labels["solo.png"]) == 1 and len(labels["x_1.jpg"]) == 1
    np.testing.assert_allclose(labels["solo.png"][0], c, atol=1e-3)       # .pts is 1-based, ours 0-based
    np.testing.assert_allclose(read_pts(tmp_path / "x_1.pts"), d, atol=1e-3)


def test_labels_for_a_photo_that_is_not_there_are_refused(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    write_pts(tmp_path / "b.pts", square_face(0, 0))
    with pytest.raises(ValueError, match="b.pts"):
        load_labels(tmp_path)
    (tmp_path / "b.pts").unlink()
    (tmp_path / "labels.json").write_text(json.dumps({"a.jpg": [square_face(0, 0)[:60].tolist()]}))
    with pytest.raises(ValueError, match="60 points"):
        load_labels(tmp_path, tmp_path / "labels.json")


def test_faces_match_the_nearest_answer_and_a_face_with_none_near_is_missed():
    near, far, lonely = square_face(0, 0), square_face(200, 0), square_face(400, 400)
    shifted = near + (4.0, 0.0)                           # 4 px at an eye distance of 40: NME 0.1
    spurious = square_face(205, 300)
    matches = match_faces("p.jpg", [near, far, lonely], [far + (0.0, 2.0), spurious, shifted])
    assert matches[0].answer is shifted and matches[1].answer is not None and matches[2].answer is None
    assert matches[0].error == pytest.approx(0.1) and matches[1].error == pytest.approx(0.05)
    s = summarise(matches, classics={"p.jpg"})
    assert (s["faces"], s["found"]) == (3, 2)
    assert s["nme"] == pytest.approx(0.075) and s["classics"] == pytest.approx(0.075)
    assert s["fr"] == 0.0                                  # 0.1 is not above 0.1
    assert s["fr_missed_failed"] == pytest.approx(1 / 3)
    assert s["small"] == pytest.approx(0.075)              # eye distance 40 px: both small


def test_one_answer_serves_one_face_only():
    a, b = square_face(0, 0), square_face(10, 0)          # two labels a quarter eye apart
    matches = match_faces("p.jpg", [a, b], [b + (1.0, 0.0)])
    assert [m.answer is not None for m in matches] == [False, True]


def test_the_app_finds_the_astronaut_and_misses_a_face_where_there_is_none(tmp_path, astronaut, capsys):
    """End to end through main.py: the label is the mean face placed on her outer eye corners as
    marked by hand on the photo (192, 101) and (261, 102); the second label is on the suit."""
    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "astronaut.png", astronaut)
    labels = {"astronaut.png": [hand_placed_face((192, 101), (261, 102)).tolist(),
                                hand_placed_face((380, 420), (420, 420)).tolist()]}
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    assert main(["--photos", str(photos), "--labels", str(tmp_path / "labels.json"), "--models", "default"]) == 0
    out = capsys.readouterr().out
    assert "missed by default 68: astronaut.png (40 px between the outer eye corners)" in out   # the suit's label
    row = [line for line in out.splitlines() if line.startswith("| default |")]
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert cells[2] == "1 of 2"
    assert float(cells[3]) < 0.2                        # a mean face is not her face; her face, though
    found_failed = float(cells[3]) > 0.10
    assert cells[4] == ("100.0%" if found_failed else "0.0%")
    assert cells[5] == ("100.0%" if found_failed else "50.0%")    # the missed face counted as failed


def test_a_manifest_gives_its_splits_still_photos_each_with_its_faces(tmp_path, capsys):
    """--manifest: the steering set's photos measured the issues' way. Video frames and the other
    split stay out; two sources' photos of one name stay apart; a photo's faces stay together."""
    from training.corpus.manifest import FaceRecord, append_record
    corpus = tmp_path / "corpus"
    for folder in ("a", "b", "frames/clip"):
        (corpus / folder).mkdir(parents=True)
        (corpus / folder / "x.jpg").write_bytes(b"")
    manifest = corpus / "manifest.jsonl"
    faces = {i: square_face(50 * i, 10) for i in range(5)}
    for image, face, split in (("a/x.jpg", 0, "val"), ("b/x.jpg", 1, "val"), ("a/x.jpg", 2, "val"),
                               ("frames/clip/x.jpg", 3, "val"), ("b/x.jpg", 4, "train")):
        append_record(manifest, FaceRecord(image=image, box=[0, 0, 1, 1], points=faces[face].tolist(), source="pkg",
                                           license="MIT", person=image.split("/")[0], split=split))
    labels = labels_of(manifest_photos(str(manifest), "val", tmp_path / "photos"))
    assert sorted(labels) == ["0000_x.jpg", "0001_x.jpg"]
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["0000_x.jpg", "0001_x.jpg"]
    assert (tmp_path / "photos" / "0000_x.jpg").resolve() == (corpus / "a" / "x.jpg").resolve()
    np.testing.assert_allclose(labels["0000_x.jpg"], [faces[0], faces[2]], atol=1e-3)
    np.testing.assert_allclose(labels["0001_x.jpg"], [faces[1]], atol=1e-3)
    with pytest.raises(ValueError, match="no still photos"):
        manifest_photos(str(manifest), "test", tmp_path / "none")
    assert main(["--manifest", str(manifest), "--labels", str(tmp_path / "l.json")]) == 2
    assert "--labels goes with --photos" in capsys.readouterr().err


def test_a_manifests_faces_are_also_scored_framed_from_their_labels(tmp_path, astronaut, capsys):
    """The last column: the found faces again, framed from their labels as training.evaluate frames
    them; for one clear face the two framings of the same model land close together."""
    from training.corpus.manifest import FaceRecord, append_record
    write_image(tmp_path / "astronaut.png", astronaut)
    face = hand_placed_face((192, 101), (261, 102))
    append_record(tmp_path / "manifest.jsonl", FaceRecord(image="astronaut.png", box=[0, 0, 1, 1], points=face.tolist(),
                                                          source="pkg", license="MIT", person="p", split="val"))
    assert main(["--manifest", str(tmp_path / "manifest.jsonl"), "--models", "default"]) == 0
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| default |")]
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert cells[2] == "1 of 1"
    through_app, from_label = float(cells[3]), float(cells[-1])
    assert from_label < 0.2 and abs(through_app - from_label) < 0.03


def test_the_label_framed_column_runs_the_model_as_the_app_args_say(tmp_path, astronaut):
    """--app-args reach both columns: with --no-mirror --no-mesh-blend the label-framed answer is the
    plain network's (and its eyelids'), without them the photo's mirrored and blended one."""
    from bench.heldout_photos import label_framed_errors
    from core.config import default_weights_path
    from core.eyelids import EyelidRefiner
    from core.model import load_checkpoint
    from training.datasets import FaceSample
    from training.evaluate import face_errors, runner_for
    write_image(tmp_path / "astronaut.png", astronaut)
    sample = FaceSample(tmp_path / "astronaut.png", hand_placed_face((192, 101), (261, 102)), "p")
    as_photos = label_framed_errors("default", 68, [sample])
    plain = label_framed_errors("default", 68, [sample], ["--no-mirror", "--no-mesh-blend"])
    path = default_weights_path(68)
    network = load_checkpoint(path).model
    expected = face_errors(network, [sample], runner_for(network, path, "auto"), EyelidRefiner())
    assert plain == pytest.approx(expected, abs=1e-6)
    assert abs(as_photos[0] - plain[0]) > 1e-4
