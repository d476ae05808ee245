"""The label audit (training/label_audit.py) and the steering table without the faces it lists."""
import json
from pathlib import Path

import numpy as np
import pytest

from core.mean_face import MEAN_FACE_68
from training.datasets import FaceSample
from training.label_audit import AuditRule, audit, face_key, read_exclusions, suspect_labels

MOUTH = list(range(48, 68))


def face(centre=(200.0, 200.0), eyes_apart=80.0) -> np.ndarray:
    """The mean face, its outer eye corners `eyes_apart` px apart."""
    pts = np.asarray(MEAN_FACE_68, np.float64)[:, :2]
    pts = pts - pts.mean(0)
    pts *= eyes_apart / np.linalg.norm(pts[36] - pts[45])
    return (pts + centre).astype(np.float32)


def test_the_rule_flags_a_label_only_where_the_readers_agree_and_both_miss_it():
    rule = AuditRule(min_label_error=0.08, max_reader_gap_share=0.5)
    mesh_vs_label = np.array([0.15, 0.15, 0.05, 0.15, 0.09])
    readers_apart = np.array([0.03, 0.10, 0.00, 0.075, 0.045])
    # far and agreed; far but the readers disagree; near; gap exactly half the miss; just over the floor
    assert suspect_labels(mesh_vs_label, readers_apart, rule).tolist() == [True, False, False, True, True]


def test_the_audit_lists_a_mouth_both_readers_put_higher_and_reports_its_errors():
    truth = face()
    eyes = 80.0
    wrong = truth.copy()
    wrong[MOUTH, 1] += 0.5 * eyes                         # the label's mouth half an eye span too low
    samples = [FaceSample(Path("movie/frames/a/001.jpg"), wrong, "a"),       # both readers on the real mouth
               FaceSample(Path("movie/frames/a/002.jpg"), truth, "a"),       # a good label
               FaceSample(Path("movie/frames/a/003.jpg"), wrong, "a")]       # only the mesh on the real mouth
    network = np.stack([truth, truth, wrong])
    mesh = np.stack([truth + 1.0, truth, truth])
    rows = audit(samples, network, mesh)
    assert [r["image"] for r in rows] == ["movie/frames/a/001.jpg"]
    row = rows[0]
    # 20 of 68 points 40 px off (the mesh 1 px off in x and y everywhere besides), over 80 px
    assert row["network_vs_label"] == pytest.approx(20 / 68 * 0.5, abs=1e-4)
    assert row["network_vs_mesh"] == pytest.approx(np.sqrt(2) / 80, abs=1e-4)
    assert row["mesh_vs_label"] > 0.14


def test_face_keys_tell_apart_faces_of_one_image_and_ignore_where_the_cache_is():
    a, b = face((200.0, 200.0)), face((600.0, 210.0))
    key = face_key(FaceSample(Path("/x/cache/corpus2/frames/k/movie/0004.jpg"), a))
    assert key == face_key(FaceSample(Path("other/frames/k/movie/0004.jpg"), a)) == "k/movie/0004.jpg@200,200"
    assert key != face_key(FaceSample(Path("other/frames/k/movie/0004.jpg"), b))


def test_a_file_that_is_not_an_audit_is_refused(tmp_path):
    path = tmp_path / "not_an_audit.json"
    path.write_text(json.dumps({"rows": []}))
    with pytest.raises(ValueError, match="not a label audit"):
        read_exclusions(path)


def test_the_steering_table_is_printed_again_without_the_listed_faces(tmp_path, astronaut, tiny_weights, capsys):
    from core.images import write_image
    from training.corpus.manifest import FaceRecord, append_record
    from training.evaluate import main

    write_image(tmp_path / "astronaut.png", astronaut)
    manifest = tmp_path / "manifest.jsonl"
    labels = [face((224.0, 125.0), 60.0), face((226.0, 127.0), 58.0)]
    for i, pts in enumerate(labels):
        append_record(manifest, FaceRecord(image="astronaut.png", box=[0, 0, 1, 1], points=pts.tolist(),
                                           source="test", license="BSD", person=f"p{i}", split="val"))
    audit_file = tmp_path / "audit.json"
    audit_file.write_text(json.dumps({"faces": [{"key": face_key(FaceSample(tmp_path / "astronaut.png",
                                                                               labels[1]))}]}))
    main(["--data", str(manifest), "--buckets", "--exclude", str(audit_file), str(tiny_weights)])
    out = capsys.readouterr().out
    tables = [line for line in out.splitlines() if line.startswith("| all |")]
    assert len(tables) == 2
    assert tables[0].split("|")[2:4] == [" 2 ", " 2 "] and tables[1].split("|")[2:4] == [" 1 ", " 1 "]
    assert "without the 1 faces whose labels" in out


def test_exclude_without_the_steering_table_is_one_clear_error(tmp_path, tiny_weights, capsys):
    from training.evaluate import main
    audit_file = tmp_path / "audit.json"
    audit_file.write_text(json.dumps({"faces": []}))
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(manifest), "--exclude", str(audit_file), str(tiny_weights)])
    assert exit_info.value.code == 2 and "--exclude goes with --buckets" in capsys.readouterr().err


def test_the_audit_never_overwrites_its_output(tmp_path, capsys):
    from training.label_audit import main
    out = tmp_path / "audit.json"
    out.write_text("an earlier audit")
    manifest = tmp_path / "manifest.jsonl"
    from training.corpus.manifest import FaceRecord, append_record
    append_record(manifest, FaceRecord(image="a.png", box=[0, 0, 1, 1], points=face().tolist(), source="t",
                                       license="MIT", person="p", split="val"))
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(manifest), "--out", str(out)])
    assert exit_info.value.code == 2 and "exists" in capsys.readouterr().err
    assert out.read_text() == "an earlier audit"
