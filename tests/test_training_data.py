"""Corpus manifest, 300-W and WFLW loaders, augmentation (on fixtures written here)."""
import json

import cv2
import numpy as np
import pytest
import torch

from core.config import ModelConfig
from core.heatmap import decode_heatmaps, heatmap_to_input
from training.augment import AugmentConfig
from training.corpus.manifest import FaceRecord, ManifestError, append_record, read_manifest
from training.datasets import (EpochDraws, FaceCrops, FaceSample, load_300w, load_corpus, load_samples,
                                    load_wflw, read_pts)
from training.targets import render_heatmaps


def face_points(n=68, centre=(100.0, 110.0), size=60.0, seed=0):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-size / 2, size / 2, (n, 2)) + centre
    a, b = (36, 45) if n == 68 else (60, 72)
    pts[a] = (centre[0] - 20, centre[1] - 10)
    pts[b] = (centre[0] + 20, centre[1] - 10)
    return pts.astype(np.float32)


def test_manifest_round_trip_and_split(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((200, 200, 3), np.uint8))
    for i, split in enumerate(["train", "val", "train"]):
        append_record(manifest, FaceRecord(image="a.png", box=[0, 0, 10, 10], points=face_points(seed=i).tolist(),
                                           source="pkg", license="MIT", person=f"p{i}", split=split))
    records = read_manifest(manifest)
    assert [r.person for r in records] == ["p0", "p1", "p2"]
    train = load_corpus(manifest, "train")
    assert [s.person for s in train] == ["p0", "p2"]
    assert train[0].image == tmp_path / "a.png"
    assert np.allclose(train[1].points, face_points(seed=2), atol=1e-4)


def test_manifest_errors_name_the_line(tmp_path):
    bad = tmp_path / "m.jsonl"
    bad.write_text(json.dumps({"image": "x", "box": [], "points": [[1, 2]] * 5, "source": "s",
                               "license": "l", "person": "p"}) + "\n")
    with pytest.raises(ManifestError, match="m.jsonl:1"):
        read_manifest(bad)
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(tmp_path / "absent.jsonl")


def test_300w_loader(tmp_path):
    pts = face_points()
    cv2.imwrite(str(tmp_path / "img1.jpg"), np.zeros((200, 200, 3), np.uint8))
    body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in pts)       # .pts is 1-based
    (tmp_path / "img1.pts").write_text(f"version: 1\nn_points:  68\n{{\n{body}\n}}\n")
    (tmp_path / "orphan.pts").write_text("version: 1\nn_points: 68\n{\n}\n")   # no image: ignored
    samples = load_300w(tmp_path)
    assert len(samples) == 1 and samples[0].source == "300W"
    assert np.allclose(samples[0].points, pts, atol=1e-3)
    assert np.allclose(load_samples(f"300w:{tmp_path}")[0].points, pts, atol=1e-3)


def test_300w_rejects_a_broken_pts(tmp_path):
    (tmp_path / "x.pts").write_text("version: 1\n")
    with pytest.raises(ValueError, match="not a valid .pts"):
        read_pts(tmp_path / "x.pts")


def test_wflw_loader(tmp_path):
    pts = face_points(98)
    line = " ".join(f"{v:.3f}" for v in pts.ravel()) + " 10 10 190 190 0 0 0 0 0 0 sub/face.jpg"
    ann = tmp_path / "list_98pt.txt"
    ann.write_text(line + "\n")
    samples = load_wflw(ann, tmp_path / "images")
    assert load_samples(f"wflw:{ann}:{tmp_path / 'images'}")[0].image == samples[0].image
    assert len(samples) == 1
    assert samples[0].image == tmp_path / "images" / "sub" / "face.jpg"
    assert np.allclose(samples[0].points, pts, atol=1e-3)
    ann.write_text("1 2 3\n")
    with pytest.raises(ValueError, match="207 fields"):
        load_wflw(ann, tmp_path)


def make_face_image(path, pts):
    img = np.full((220, 220, 3), 40, np.uint8)
    for x, y in pts:
        cv2.circle(img, (int(x), int(y)), 1, (255, 255, 255), -1)
    cv2.imwrite(str(path), img)


def test_dataset_targets_match_the_landmarks(tmp_path):
    """Without augmentation the target points sit on the drawn dots of the crop,
    and the heatmaps rendered from them decode back to them."""
    pts = face_points()
    make_face_image(tmp_path / "f.png", pts)
    cfg = ModelConfig()
    ds = FaceCrops([FaceSample(tmp_path / "f.png", pts)], cfg)
    image, hm_pts = ds.draw(0, (0, 0))
    assert image.shape == (3, 128, 128) and image.dtype == torch.uint8 and hm_pts.shape == (68, 2)
    assert (hm_pts >= 0).all() and (hm_pts <= 31).all()
    in_crop = heatmap_to_input(hm_pts.numpy(), 128, 32)
    grey = image.float().mean(0).numpy()
    brightness = [grey[int(round(y)), int(round(x))] for x, y in in_crop]
    assert np.mean(brightness) > 100            # background is 40, the dots 255
    heatmaps = render_heatmaps(hm_pts, cfg.heatmap_size, cfg.heatmap_sigma)
    assert heatmaps.shape == (68, 32, 32)
    decoded, _ = decode_heatmaps(heatmaps.numpy())
    assert np.abs(decoded - hm_pts.numpy()).max() < 0.1


def test_augmentation_is_deterministic_per_key_and_flip_keeps_labels_consistent(tmp_path):
    pts = face_points()
    make_face_image(tmp_path / "f.png", pts)
    ds = FaceCrops([FaceSample(tmp_path / "f.png", pts)], ModelConfig(), augment=AugmentConfig(flip_prob=1.0))
    a1, p1 = ds.draw(0, (0, 5))
    a2, p2 = ds.draw(0, (0, 5))
    assert torch.equal(a1, a2) and torch.equal(p1, p2)        # same (seed, key)
    _, p3 = ds.draw(0, (1, 5))
    assert not torch.equal(p1, p3)
    # Flipped: the point labelled 36 (image-left outer eye corner) is still left of 45.
    assert p1[36, 0] < p1[45, 0]


@pytest.mark.parametrize("face_px", [400, 40])          # kept at full size / shrunk
def test_packed_corpus_gives_the_same_training_crops(tmp_path, face_px):
    """A packed face, cropped the way training crops it, shows the same picture
    as the original frame (a smooth gradient, so any misplacement shows)."""
    from core.geometry import crop_from_landmarks, warp_crop
    from core.landmarks import layout_for
    from training.corpus.pack import pack_corpus

    yy, xx = np.mgrid[0:300, 0:400].astype(np.float32)
    frame = np.dstack([xx * 0.6, yy * 0.8, (xx + yy) * 0.3]).astype(np.uint8)
    (tmp_path / "frames").mkdir()
    cv2.imwrite(str(tmp_path / "frames" / "a.png"), frame)
    pts = face_points(centre=(220.0, 150.0))
    append_record(tmp_path / "m.jsonl", FaceRecord(image="frames/a.png", box=[180, 110, 260, 190],
                                                   points=pts.tolist(), source="pkg", license="MIT",
                                                   person="p", split="val"))
    packed = pack_corpus(tmp_path / "m.jsonl", tmp_path / "packed", face_px=face_px, quality=100)
    sample = load_corpus(packed, "val")[0]
    assert "frames" in sample.image.parts                   # evaluation tells frames from photos by it
    image = cv2.imread(str(sample.image))
    layout = layout_for(68)
    side = crop_from_landmarks(pts, layout, 1.35).side
    assert max(image.shape[:2]) == pytest.approx(2 * min(side, face_px), abs=2)
    a = warp_crop(frame, crop_from_landmarks(pts, layout, 1.35), 32).astype(float)
    b = warp_crop(image, crop_from_landmarks(sample.points, layout, 1.35), 32).astype(float)
    assert np.abs(a - b).mean(axis=(0, 1)).max() < 1.0
    record = read_manifest(packed)[0]
    assert record.extra["packed_from"] == "frames/a.png" and record.license == "MIT"


def test_repeated_draws_in_an_epoch_get_different_crops_and_replay_exactly(tmp_path):
    pts = face_points()
    make_face_image(tmp_path / "f.png", pts)
    ds = FaceCrops([FaceSample(tmp_path / "f.png", pts)], ModelConfig(), augment=AugmentConfig())
    draws = EpochDraws(ds, np.zeros(4, dtype=int), epoch=3)           # the one face, drawn 4 times
    crops = [draws[i][1] for i in range(4)]
    assert all(not torch.equal(crops[0], c) for c in crops[1:])
    resumed = EpochDraws(ds, np.zeros(4, dtype=int), epoch=3, start=2)
    assert len(resumed) == 2 and torch.equal(resumed[0][1], crops[2]) and torch.equal(resumed[1][1], crops[3])
    assert not torch.equal(EpochDraws(ds, np.zeros(4, dtype=int), epoch=4)[0][1], crops[0])


def test_degradations_keep_the_crop_and_really_degrade(tmp_path):
    """Each degradation alone: same shape and type; a small face loses its fine detail;
    a JPEG at low quality differs; all are functions of the random generator."""
    from training.augment import degrade
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:128, 0:128]
    crop = ((np.sin(xx * 2.0) * np.cos(yy * 2.1) + 1) * 120).astype(np.uint8)      # fine texture (3 px period)
    crop = np.dstack([crop, crop[::-1], crop[:, ::-1]])
    off = AugmentConfig(small_prob=0, jpeg_prob=0, motion_blur_prob=0, gamma_prob=0, sepia_prob=0, grain_prob=0)
    assert np.array_equal(degrade(crop, rng, off, 60.0), crop)
    from dataclasses import replace
    small = degrade(crop, np.random.default_rng(1), replace(off, small_prob=1.0), 60.0)
    assert small.shape == crop.shape and small.dtype == np.uint8
    detail = lambda im: np.abs(np.diff(im.astype(float), axis=1)).mean()              # noqa: E731
    assert detail(small) < 0.5 * detail(crop)                                       # 12-40 px eyes: blurry
    for name in ("jpeg_prob", "motion_blur_prob", "gamma_prob", "sepia_prob", "grain_prob"):
        out = degrade(crop, np.random.default_rng(2), replace(off, **{name: 1.0}), 60.0)
        assert out.shape == crop.shape and out.dtype == np.uint8 and not np.array_equal(out, crop), name
        again = degrade(crop, np.random.default_rng(2), replace(off, **{name: 1.0}), 60.0)
        assert np.array_equal(out, again), name
    sepia = degrade(crop, np.random.default_rng(3), replace(off, sepia_prob=1.0), 60.0).astype(float)
    assert (sepia[..., 0] >= sepia[..., 2]).all()                                   # warm, no blue cast


def test_steering_set_caps_video_frames_weights_people_once_and_buckets_faces():
    from pathlib import Path

    from training.evaluate import bucket_table, cap_video_frames

    def sample(person, image, iod, **facts):
        pts = face_points()
        pts[36], pts[45] = (100.0, 100.0), (100.0 + iod, 100.0)        # outer eye corners iod px apart
        return FaceSample(Path(image), pts, person, "test", facts)

    video = [sample("v", f"frames/v/{i:03d}.png", 50, yaw_mesh=5.0) for i in range(100)]
    photos = [sample("a", "a1.jpg", 20, yaw_mesh=30.0, grey=True), sample("a", "a2.jpg", 100, yaw_mesh=-50.0),
              sample("b", "b.jpg", 100, yaw_mesh=-10.0)]
    capped = cap_video_frames(video + photos, per_person=20)
    assert len(capped) == 23 and sum(s.is_video_frame for s in capped) == 20
    kept = sorted(int(s.image.stem) for s in capped if s.is_video_frame)
    assert kept == list(range(0, 100, 5))                                # evenly spread, not the first 20

    per_photo = {"a1.jpg": 0.2, "a2.jpg": 0.04, "b.jpg": 0.06}            # video frames 0.02 each
    errors = np.array([0.02 if s.is_video_frame else per_photo[s.image.name] for s in capped])
    rows = {r["bucket"]: r for r in bucket_table(errors, capped)}
    assert rows["all"]["faces"] == 23 and rows["all"]["people"] == 3
    assert rows["all"]["nme_person"] == pytest.approx((0.02 + 0.12 + 0.06) / 3)   # each person once
    assert rows["all"]["nme"] == pytest.approx(errors.mean())
    assert rows["all"]["fr10"] == pytest.approx(1 / 23)                  # one face above 0.10
    assert (rows["yaw <20"]["faces"], rows["yaw 20-45"]["faces"], rows["yaw >45"]["faces"]) == (21, 1, 1)
    assert rows["yaw >45"]["nme"] == pytest.approx(0.04)
    assert (rows["interocular <30 px"]["faces"], rows["interocular 30-80 px"]["faces"],
            rows["interocular >80 px"]["faces"]) == (1, 20, 2)
    assert rows["grey / old photo"]["faces"] == 1 and rows["grey / old photo"]["nme"] == pytest.approx(0.2)
    assert rows["colour"]["faces"] == 22


def test_contact_sheet_grid_keeps_order_and_pads_the_last_row_black():
    from training.contact_sheet import grid
    tiles = [np.full((4, 5, 3), i, np.uint8) for i in range(1, 10)]
    sheet = grid(tiles, 4)
    assert sheet.shape == (12, 20, 3)
    assert [int(sheet[r * 4, c * 5, 0]) for r in range(3) for c in range(4)] == [*range(1, 10), 0, 0, 0]


def test_contact_sheet_tile_draws_the_labels_on_a_copy():
    from core.landmarks import LAYOUT_68
    from training.contact_sheet import labelled_tile
    image = np.zeros((300, 300, 3), np.uint8)
    tile = labelled_tile(image, face_points(centre=(150.0, 150.0)), LAYOUT_68, 1.3, 120)
    assert tile.shape == (120, 120, 3) and (tile == 255).all(axis=2).sum() > 68    # the white dots
    assert image.max() == 0                                                        # the source is untouched
