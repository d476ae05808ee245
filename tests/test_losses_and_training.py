import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from core.config import ModelConfig
from core.model import load_checkpoint
from training.corpus.manifest import FaceRecord, append_record
from training.losses import (FeatureAdapters, feature_aligned_loss, feature_similarity_loss, heatmap_loss,
                                  similarity_map)
from training.train import TrainConfig, TrainingError, TrainingRun, build_parser, config_from_args, train


@pytest.mark.parametrize("plain", [False, True])
def test_fa_is_zero_when_the_adapted_student_equals_the_teacher(plain):
    torch.manual_seed(0)
    adapters = FeatureAdapters([16, 16, 16], [32, 32, 32], plain=plain).eval()
    student = [torch.randn(2, 16, 4, 4), torch.randn(2, 16, 8, 8), torch.randn(2, 16, 16, 16)]
    teacher = [a.detach() for a in adapters(student)]
    assert feature_aligned_loss(adapters(student), teacher).item() == 0.0
    # The definition: the sum over stages of each stage's mean squared difference.
    shifted = [t + (i + 1) for i, t in enumerate(teacher)]
    assert feature_aligned_loss(adapters(student), shifted).item() == pytest.approx(1 + 4 + 9, rel=1e-5)


def test_the_papers_adapter_ends_in_batch_norm_and_relu():
    adapter = FeatureAdapters([8], [16]).convs[0]
    assert [type(m).__name__ for m in adapter] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert (adapter(torch.randn(2, 8, 4, 4)) >= 0).all()


def test_fs_of_identical_features_is_zero_and_follows_its_definition():
    torch.manual_seed(2)
    f = [torch.randn(2, 8, 4, 4), torch.randn(2, 8, 8, 8)]
    assert feature_similarity_loss(f, [x.clone() for x in f]).item() < 1e-12
    g = [torch.randn(2, 8, 4, 4), torch.randn(2, 8, 8, 8)]
    by_hand = 0.0
    for a, b in zip(f, g):                                   # N x N cosines of all position pairs, per stage
        fa, fb = a.flatten(2), b.flatten(2)
        sa = torch.nn.functional.cosine_similarity(fa.unsqueeze(3), fa.unsqueeze(2), dim=1)
        sb = torch.nn.functional.cosine_similarity(fb.unsqueeze(3), fb.unsqueeze(2), dim=1)
        by_hand += ((sa - sb) ** 2).mean().item()
    assert feature_similarity_loss(f, g).item() == pytest.approx(by_hand, rel=1e-4)


def test_fs_without_the_maps_has_the_maps_value_and_gradient():
    """Computed from channel products (training/losses.py), it is the literal MSE of the N x N maps."""
    torch.manual_seed(3)
    for shape_s, shape_t in [((2, 8, 6, 6), (2, 24, 6, 6)), ((3, 16, 16, 16), (3, 64, 16, 16))]:
        s = torch.randn(*shape_s, requires_grad=True)
        t = torch.randn(*shape_t)
        literal = torch.nn.functional.mse_loss(similarity_map(s), similarity_map(t))
        (grad_literal,) = torch.autograd.grad(literal, s)
        fast = feature_similarity_loss([s], [t])
        (grad_fast,) = torch.autograd.grad(fast, s)
        assert fast.item() == pytest.approx(literal.item(), rel=1e-5)
        assert torch.allclose(grad_fast, grad_literal, rtol=1e-3, atol=1e-9)


def test_similarity_loss_ignores_channel_count_and_scale():
    torch.manual_seed(1)
    f = torch.randn(2, 8, 4, 4)
    # Same spatial structure, different channels (a padded copy) and scale: identical similarity maps.
    g = torch.cat([f * 3.0, torch.zeros(2, 5, 4, 4)], dim=1)
    assert feature_similarity_loss([f], [g]).item() < 1e-10
    assert feature_similarity_loss([f], [torch.randn(2, 8, 4, 4)]).item() > 0.01


def test_similarity_map_is_cosine():
    f = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])        # 2 channels, 1x2 positions: orthogonal
    s = similarity_map(f)
    assert torch.allclose(s, torch.eye(2).unsqueeze(0))


def test_heatmap_loss_zero_only_at_target():
    t = torch.rand(2, 68, 32, 32)
    assert heatmap_loss(t, t).item() == 0.0
    assert heatmap_loss(torch.zeros_like(t), t).item() > 0


def tiny_corpus(tmp_path, n=6):
    rng = np.random.default_rng(0)
    manifest = tmp_path / "manifest.jsonl"
    for i in range(n):
        pts = rng.uniform(60, 160, (68, 2))
        pts[36], pts[45] = (80, 90), (140, 90)
        img = np.full((220, 220, 3), 30 + 20 * i, np.uint8)
        cv2.imwrite(str(tmp_path / f"{i}.png"), img)
        append_record(manifest, FaceRecord(image=f"{i}.png", box=[50, 50, 170, 170], points=pts.tolist(),
                                           source="test", license="MIT", person=f"p{i}",
                                           split="val" if i == 0 else "train"))
    return manifest


def small_run(tmp_path, manifest, out, width=0.35, deconv_channels=16, **kw):
    cfg = dict(data=str(manifest), out=str(out), epochs=1, epoch_size=8, batch_size=4, workers=0, threads=1,
               val_limit=2, model=ModelConfig(width=width, deconv_channels=deconv_channels))
    cfg.update(kw)
    return TrainConfig(**cfg)


def test_two_step_training_smoke_run_with_distillation(tmp_path):
    manifest = tiny_corpus(tmp_path)
    teacher_best = train(small_run(tmp_path, manifest, tmp_path / "teacher", width=0.5, deconv_channels=24))
    student_best = train(small_run(tmp_path, manifest, tmp_path / "student", teacher=str(teacher_best)))
    loaded = load_checkpoint(student_best)
    assert loaded.model.config.deconv_channels == 16 and loaded.meta["distilled_from"] == str(teacher_best)
    log = [json.loads(line) for line in (tmp_path / "student" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["loss_fa"] > 0 and log[-1]["loss_fs"] > 0 and np.isfinite(log[-1]["val_nme"])


def test_a_manifest_given_as_validation_data_gives_its_val_split_only(tmp_path):
    """--val-data cache/corpus2/manifest.jsonl beside --data manifest_synth.jsonl: the trainer's
    validation (which keeps best.pt) must not score the faces it trains on."""
    from training.train import TrainingRun
    manifest = tiny_corpus(tmp_path)
    run = TrainingRun(small_run(tmp_path, manifest, tmp_path / "v", val_data=str(manifest), val_limit=10))
    assert [s.person for s in run.val_samples] == ["p0"]          # the one val face, none of the five train ones


def test_fine_tuning_starts_from_the_given_weights(tmp_path):
    manifest = tiny_corpus(tmp_path)
    first = load_checkpoint(train(small_run(tmp_path, manifest, tmp_path / "a")))
    # With a zero learning rate, fine-tuning must hand back exactly the weights it started from.
    tuned = load_checkpoint(train(small_run(tmp_path, manifest, tmp_path / "b", init=str(tmp_path / "a" / "best.pt"),
                                            lr=0.0, weight_decay=0.0)))
    fresh = load_checkpoint(train(small_run(tmp_path, manifest, tmp_path / "c", lr=0.0, seed=1)))
    a, b, c = (m.model.state_dict() for m in (first, tuned, fresh))
    conv = [k for k in a if k.endswith("weight") and a[k].ndim == 4][0]
    assert torch.equal(a[conv], b[conv]) and not torch.equal(a[conv], c[conv])
    with pytest.raises(TrainingError, match="differs"):
        train(small_run(tmp_path, manifest, tmp_path / "d", init=str(tmp_path / "a" / "best.pt"), width=0.5))


def test_a_new_decoder_can_start_on_another_runs_encoder(tmp_path):
    """--init-encoder: the encoder's weights come from the checkpoint, the decoder (other channels) is new."""
    manifest = tiny_corpus(tmp_path)
    first = load_checkpoint(train(small_run(tmp_path, manifest, tmp_path / "a"))).model
    second = load_checkpoint(train(small_run(tmp_path, manifest, tmp_path / "b", deconv_channels=8, lr=0.0,
                                             weight_decay=0.0, init_encoder=str(tmp_path / "a" / "best.pt")))).model
    assert second.config.deconv_channels == 8
    # With a zero learning rate the weights stay as loaded (BatchNorm's running statistics still move).
    enc_a, enc_b = dict(first.encoder.named_parameters()), dict(second.encoder.named_parameters())
    assert enc_a.keys() == enc_b.keys() and all(torch.equal(enc_a[k], enc_b[k]) for k in enc_a)
    fresh = load_checkpoint(train(small_run(tmp_path, manifest, tmp_path / "f", deconv_channels=8, lr=0.0,
                                            weight_decay=0.0, seed=1))).model
    assert not all(torch.equal(enc_a[k], p) for k, p in fresh.encoder.named_parameters())
    with pytest.raises(TrainingError, match="encoder"):
        train(small_run(tmp_path, manifest, tmp_path / "c", width=0.5, init_encoder=str(tmp_path / "a" / "best.pt")))


def test_resume_continues_exactly(tmp_path):
    manifest = tiny_corpus(tmp_path)
    # Uninterrupted: 2 epochs of 2 steps.
    train(small_run(tmp_path, manifest, tmp_path / "full", epochs=2))
    full = torch.load(tmp_path / "full" / "state.pt", weights_only=False)["model"]
    # Interrupted in the middle of epoch 2 (after 3 steps), then resumed.
    train(small_run(tmp_path, manifest, tmp_path / "split", epochs=2, max_steps=3))
    assert torch.load(tmp_path / "split" / "state.pt", weights_only=False)["batch"] == 1
    train(small_run(tmp_path, manifest, tmp_path / "split", epochs=2), resume=True)
    resumed = torch.load(tmp_path / "split" / "state.pt", weights_only=False)["model"]
    for key in full:
        assert torch.allclose(full[key].float(), resumed[key].float(), atol=1e-5), key


def test_command_line_is_generated_from_the_config(tmp_path):
    """Every TrainConfig and ModelConfig field is an option, parsed to the field's type."""
    args = build_parser().parse_args(["--data", "m.jsonl", "--out", str(tmp_path), "--points", "98",
                                      "--width", "0.5", "--heatmap-sigma", "2.0", "--landmark-scale", "1.4",
                                      "--weight-decay", "0.001", "--fs-levels", "0,1,2", "--max-steps", "7",
                                      "--teacher", "t.pt"])
    cfg = config_from_args(args)
    assert cfg.model == ModelConfig(num_points=98, width=0.5, heatmap_sigma=2.0, landmark_scale=1.4)
    assert cfg.weight_decay == 0.001 and cfg.fs_levels == (0, 1, 2) and cfg.max_steps == 7
    assert cfg.teacher == "t.pt" and cfg.val_data is None and cfg.epochs == TrainConfig("", "").epochs
    legacy = config_from_args(build_parser().parse_args(["--manifest", "m.jsonl", "--out", "o"]))
    assert legacy.data == "m.jsonl"


def test_training_reads_300w_folders(tmp_path):
    """A 300-W style folder (.pts beside each image) trains through --data 300w:DIR."""
    rng = np.random.default_rng(0)
    for i in range(4):
        pts = rng.uniform(60, 160, (68, 2))
        pts[36], pts[45] = (80, 90), (140, 90)
        cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full((220, 220, 3), 40 * i, np.uint8))
        body = "\n".join(f"{x + 1:.2f} {y + 1:.2f}" for x, y in pts)
        (tmp_path / f"f{i}.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")
    best = train(small_run(tmp_path, f"300w:{tmp_path}", tmp_path / "run", val_data=f"300w:{tmp_path}"))
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert best.exists() and np.isfinite(log[-1]["val_nme"])


def test_a_small_student_learns_from_a_teacher_of_another_input_size(tmp_path):
    """96 px student, 128 px teacher: the teacher sees resized crops, its features meet the student's grids."""
    manifest = tiny_corpus(tmp_path)
    teacher = train(small_run(tmp_path, manifest, tmp_path / "t", width=0.5, deconv_channels=24))
    cfg = small_run(tmp_path, manifest, tmp_path / "s", teacher=str(teacher))
    cfg = TrainConfig(**{**cfg.__dict__, "model": ModelConfig(width=0.35, deconv_channels=16, input_size=96)})
    student = load_checkpoint(train(cfg)).model
    assert student.config.input_size == 96 and student.config.heatmap_size == 24
    log = [json.loads(line) for line in (tmp_path / "s" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["loss_fa"] > 0 and log[-1]["loss_fs"] > 0 and np.isfinite(log[-1]["val_nme"])


def test_ablation_arms_differ_only_in_the_distillation_terms(tmp_path):
    from training.ablation import ARMS, run_config
    base = small_run(tmp_path, tmp_path / "m.jsonl", "")
    cfgs = {a.name: run_config(base, a, 2, "t.pt", tmp_path) for a in ARMS}
    assert cfgs["none"].teacher is None and cfgs["FA"].teacher == "t.pt"
    assert (cfgs["FA"].fa_weight, cfgs["FA"].fs_weight) == (0.01, 0.0)
    assert (cfgs["FS"].fa_weight, cfgs["FS"].fs_weight) == (0.0, 0.01)
    assert (cfgs["FA+FS"].fa_weight, cfgs["FA+FS"].fs_weight) == (0.01, 0.01)
    assert (cfgs["soft"].soft_weight, cfgs["soft"].fa_weight, cfgs["soft"].teacher) == (1.0, 0.0, "t.pt")
    assert all(c.soft_weight == 0 for n, c in cfgs.items() if not n.startswith("soft"))
    assert len({c.out for c in cfgs.values()}) == len(ARMS)        # one folder per arm
    for c in cfgs.values():    # same student, data, steps and seed in every arm
        assert (c.model, c.data, c.epochs, c.epoch_size, c.seed) == (base.model, base.data, base.epochs,
                                                                     base.epoch_size, 2)


def test_ablation_trains_face_mesh_students_as_the_shipped_models_are_trained(tmp_path):
    """Every shipped model is a face-mesh student since round 16: the ablation can train that
    student (pretrained trunk, its gentler learning rate) in every arm, the teacher's only in some."""
    from training.ablation import ARMS, base_config, make_parser, run_config
    args = make_parser().parse_args(["--data", "d.jsonl", "--teacher", "t.pt", "--out", str(tmp_path),
                                     "--encoder", "face_mesh", "--pretrained", "--encoder-lr-scale", "0.1",
                                     "--input-size", "96", "--deconv-channels", "32"])
    cfgs = [run_config(base_config(args), arm, 1, args.teacher, tmp_path) for arm in ARMS]
    for c in cfgs:
        assert (c.model.encoder, c.model.input_size, c.model.deconv_channels) == ("face_mesh", 96, 32)
        assert c.pretrained and c.encoder_lr_scale == 0.1 and c.seed == 1
    assert {c.teacher for c in cfgs} == {None, "t.pt"}
    default = base_config(make_parser().parse_args(["--data", "d", "--teacher", "t", "--out", str(tmp_path)]))
    assert (default.model.encoder, default.pretrained, default.encoder_lr_scale) == ("mobilenetv2", False, 1.0)
    assert (default.model.trunk_activation, default.relu_fade_epochs) == ("prelu", 0.0)
    # The ReLU trunk of the small model since round 19, faded in from MediaPipe's PReLUs.
    relu = base_config(make_parser().parse_args(["--data", "d", "--teacher", "t", "--out", str(tmp_path),
                                                 "--encoder", "face_mesh", "--pretrained", "--trunk-activation",
                                                 "relu", "--relu-fade-epochs", "1.5"]))
    assert (relu.model.trunk_activation, relu.relu_fade_epochs) == ("relu", 1.5)


def test_ablation_table_reports_mean_and_sample_std_over_seeds():
    from training.ablation import REPORTED_BUCKETS, summarise
    runs = [{"nme_person": v, "nme_faces": v, "fr10": 0.0, "seed": i, **{b: v for b in REPORTED_BUCKETS[1:]}}
            for i, v in enumerate((0.05, 0.06, 0.07))]
    row = summarise({"FA": runs}).splitlines()[2]
    # mean 0.06, sample std sqrt(((0.01)^2 * 2) / 2) = 0.01; no baseline arm: no comparison columns
    assert row.startswith("| FA | 3 | 0.0600 +- 0.0100 |") and row.endswith("| 0.0500, 0.0600, 0.0700 | - | - |")


def test_ablation_table_pairs_each_arm_with_the_baseline_at_the_same_seed():
    from training.ablation import REPORTED_BUCKETS, summarise

    def runs(pairs):
        return [{"nme_person": v, "nme_faces": v, "fr10": 0.0, "seed": s, **{b: v for b in REPORTED_BUCKETS[1:]}}
                for s, v in pairs]
    # Seeds differ a lot (0.05 .. 0.07) but the arm is 0.002 better at every seed; seed 2 has no baseline run.
    table = summarise({"none": runs([(0, 0.05), (1, 0.07), (2, 0.06)]),
                       "soft": runs([(0, 0.048), (1, 0.068)]),
                       "FA": runs([(3, 0.05)])}).splitlines()
    assert table[2].endswith("| - |")                                # the baseline itself
    assert table[3].endswith("| -0.0020 +- 0.0000 (n=2) |")          # the seed's luck cancels
    assert table[4].endswith("| - |")                                # no seed in common
    assert table[4].startswith("| FA | 1 | 0.0500 | ") and "nan" not in "".join(table)   # one run: no spread


def test_ablation_table_gives_the_paired_t_and_its_p():
    from training.ablation import REPORTED_BUCKETS, summarise

    def runs(pairs):
        return [{"nme_person": v, "nme_faces": v, "fr10": 0.0, "seed": s, **{b: v for b in REPORTED_BUCKETS[1:]}}
                for s, v in pairs]
    # Differences -0.001, -0.002, -0.003: mean -0.002, sample std 0.001, so t = -0.002 / (0.001 / sqrt 3)
    # = -3.46; Student's t with 2 degrees of freedom puts 3.7% beyond 3.46 on each side: p = 0.074.
    table = summarise({"none": runs([(0, 0.05), (1, 0.07), (2, 0.06)]),
                       "soft": runs([(0, 0.049), (1, 0.068), (2, 0.057)])}).splitlines()
    assert table[3].endswith("| -0.0020 +- 0.0010 (n=3, t=-3.46, p=0.074) |")


def test_ablation_table_compares_arms_as_independent_samples_by_welch():
    from training.ablation import REPORTED_BUCKETS, summarise

    def runs(values, seeds=(0, 1, 2)):
        return [{"nme_person": v, "nme_faces": v, "fr10": 0.0, "seed": s, **{b: v for b in REPORTED_BUCKETS[1:]}}
                for s, v in zip(seeds, values)]
    # none: mean 0.06, sample variance 1e-4; soft: mean 0.05, variance 4e-6. Welch: standard error
    # sqrt(1e-4/3 + 4e-6/3) = 0.005888, t = -0.01 / 0.005888 = -1.70, with (a+b)^2 / (a^2/2 + b^2/2)
    # = 2.16 degrees of freedom (a, b the two variances over 3), p = 0.22 (0.23 at exactly 2).
    table = summarise({"none": runs([0.05, 0.06, 0.07]), "soft": runs([0.048, 0.052, 0.050], seeds=(5, 6, 7)),
                       "FA": runs([0.05], seeds=(0,))}).splitlines()
    assert "(Welch)" in table[0]
    assert table[2].endswith("| - | - |")                                       # the baseline itself
    assert table[3].endswith("| -0.0100 (t=-1.70, p=0.22) | - |")              # no seed in common: no pairs
    assert table[4].endswith("| -0.0100 | +0.0000 (n=1) |")                    # one run: no t


def test_ablation_arms_at_one_seed_start_alike_and_draw_the_same_crops(tmp_path):
    """What the paired column relies on: only the loss differs between arms at one seed."""
    from training.ablation import ARMS, run_config
    manifest = tiny_corpus(tmp_path)
    teacher = train(small_run(tmp_path, manifest, tmp_path / "teacher", width=0.5, deconv_channels=24))
    base = small_run(tmp_path, manifest, "", width=0.35, deconv_channels=16)
    arms = {a.name: a for a in ARMS}
    runs = [TrainingRun(run_config(base, arms[name], 5, str(teacher), tmp_path / "abl")) for name in ("none", "FA+FS")]
    plain, distilled = (r.model.state_dict() for r in runs)
    assert all(torch.equal(plain[k], distilled[k]) for k in plain)
    (a_images, a_points), (b_images, b_points) = (next(iter(r._loader(0, 0))) for r in runs)
    assert torch.equal(a_images, b_images) and torch.equal(a_points, b_points)
    other = TrainingRun(run_config(base, arms["none"], 6, str(teacher), tmp_path / "abl"))
    assert not torch.equal(next(iter(other._loader(0, 0)))[0], a_images)     # a seed does change them


def test_loader_workers_do_not_change_what_a_seed_draws(tmp_path):
    """A many-core GPU machine (--workers 2) draws the same crops for a seed as this one (--workers 0)."""
    manifest = tiny_corpus(tmp_path)
    batches = [list(TrainingRun(small_run(tmp_path, manifest, tmp_path / f"w{w}", workers=w, seed=3))._loader(0, 0))
               for w in (0, 2)]
    assert len(batches[0]) == len(batches[1]) > 1
    for (a_images, a_points), (b_images, b_points) in zip(*batches):
        assert torch.equal(a_images, b_images) and torch.equal(a_points, b_points)


def test_ablation_trains_each_run_once_and_scores_its_last_weights(tmp_path, monkeypatch):
    from training import ablation
    manifest = tiny_corpus(tmp_path)
    teacher = train(small_run(tmp_path, manifest, tmp_path / "teacher", width=0.5, deconv_channels=24))
    trained = []
    real_run = ablation.TrainingRun.run
    monkeypatch.setattr(ablation.TrainingRun, "run", lambda self: trained.append(self.cfg.out) or real_run(self))
    argv = ["--data", str(manifest), "--teacher", str(teacher), "--out", str(tmp_path / "abl"), "--seeds", "0", "1",
            "--arms", "none", "FA+FS", "--epochs", "1", "--epoch-size", "64", "--width", "0.35",
            "--deconv-channels", "16", "--threads", "1"]
    ablation.main(argv)
    assert len(trained) == 4
    table = (tmp_path / "abl" / "table.md").read_text()
    assert "| none | 2 |" in table and "| FA+FS | 2 |" in table
    ablation.main(argv)          # a second call trains nothing again
    assert len(trained) == 4
    # midway through a longer one: --report-only tables the finished runs and trains none
    ablation.main(argv[:7] + ["0", "1", "2"] + argv[9:] + ["--report-only"])
    assert len(trained) == 4
    table = (tmp_path / "abl" / "table.md").read_text()
    assert "| none | 2 |" in table and "| FA+FS | 2 |" in table


def test_fine_tuning_ablation_students_take_the_starting_weights_architecture(tmp_path):
    from training import ablation
    manifest = tiny_corpus(tmp_path)
    start = train(small_run(tmp_path, manifest, tmp_path / "start", width=0.5, deconv_channels=24))
    ablation.main(["--data", str(manifest), "--teacher", str(start), "--init", str(start), "--out",
                   str(tmp_path / "abl"), "--seeds", "0", "--arms", "FA", "--epochs", "1", "--epoch-size", "8",
                   "--threads", "1", "--device", "cpu", "--workers", "0"])
    meta = load_checkpoint(tmp_path / "abl" / "FA_s0" / "last.pt").meta["train_config"]
    assert meta["init"] == str(start) and meta["model"]["deconv_channels"] == 24 and meta["fa_weight"] == 0.01
    assert (meta["device"], meta["workers"]) == ("cpu", 0)


def test_every_stage_has_its_own_adapter():
    """The authors' code reuses its second adapter at the third stage (a bug we do not copy)."""
    adapters = FeatureAdapters([16, 16, 16], [32, 32, 32])
    weights = [conv[0].weight for conv in adapters.convs]
    assert len({w.data_ptr() for w in weights}) == 3
    x = [torch.rand(2, 16, 4, 4)] * 3
    with torch.no_grad():
        weights[2].add_(1.0)
        out = adapters(x)
    assert not torch.allclose(out[1], out[2])          # stage 3 answers to its own adapter only


def test_soft_targets_are_the_teachers_points_drawn_on_the_students_grid():
    """A teacher at 192 px (48x48 maps) and a student at 128 px (32x32): a teacher peak at
    teacher input pixel (95.5, 47.5) is the student's input pixel (63.5, 31.5), drawn with the
    student's sigma; the same peak decoded from the drawn target lands there again."""
    from core.heatmap import decode_heatmaps, heatmap_to_input
    from training.targets import render_heatmaps
    from training.train import soft_targets
    teacher, student = ModelConfig(encoder="face_mesh", input_size=192), ModelConfig()
    peak_hm = torch.tensor([[[(95.5 + 0.5) / 4 - 0.5, (47.5 + 0.5) / 4 - 0.5]]])      # teacher heatmap pixels
    maps = render_heatmaps(peak_hm.repeat(1, 68, 1), teacher.heatmap_size, teacher.heatmap_sigma)
    target = soft_targets(maps, student, teacher)
    assert target.shape == (1, 68, 32, 32)
    points, _ = decode_heatmaps(target.numpy())
    assert np.allclose(heatmap_to_input(points, 128, 32)[0, 0], [63.5, 31.5], atol=0.05)
    expected = render_heatmaps(torch.tensor([[[(63.5 + 0.5) / 4 - 0.5, (31.5 + 0.5) / 4 - 0.5]]]), 32, 1.5)
    assert torch.allclose(target[0, 0], expected[0, 0], atol=1e-3)


def test_training_with_the_teachers_answers_as_targets(tmp_path):
    manifest = tiny_corpus(tmp_path)
    teacher_best = train(small_run(tmp_path, manifest, tmp_path / "teacher", width=0.5, deconv_channels=24))
    student_best = train(replace(small_run(tmp_path, manifest, tmp_path / "student", teacher=str(teacher_best)),
                                 soft_weight=1.0, fa_weight=0.0, fs_weight=0.0))
    log = [json.loads(line) for line in (tmp_path / "student" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["loss_soft"] > 0 and np.isfinite(log[-1]["val_nme"]) and student_best.exists()


def test_a_share_of_the_people_is_nested_in_every_larger_share():
    from training.datasets import FaceSample
    from training.train import some_people
    samples = [FaceSample(image=__import__("pathlib").Path(f"{p}_{i}.jpg"), points=np.zeros((68, 2)), person=f"p{p}")
               for p in range(20) for i in range(3)]
    quarter, half = some_people(samples, 0.25), some_people(samples, 0.5)
    people = lambda xs: {s.person for s in xs}          # noqa: E731
    assert len(people(quarter)) == 5 and len(people(half)) == 10 and people(quarter) <= people(half)
    assert len(quarter) == 15 and some_people(samples, 1.0) == samples      # every face of a chosen person


def test_a_distillation_term_without_weight_is_not_computed(tmp_path, monkeypatch):
    """The FA arm never builds the similarity maps (the costliest term), and logs no value for it."""
    import training.train as train_module
    manifest = tiny_corpus(tmp_path)
    teacher = train(small_run(tmp_path, manifest, tmp_path / "t", width=0.5, deconv_channels=24))

    def never(*args, **kwargs):
        raise AssertionError("similarity term computed")

    monkeypatch.setattr(train_module, "feature_similarity_loss", never)
    train(small_run(tmp_path, manifest, tmp_path / "fa", teacher=str(teacher), fa_weight=0.01, fs_weight=0.0))
    log = [json.loads(line) for line in (tmp_path / "fa" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["loss_fa"] > 0 and log[-1]["loss_fs"] is None and log[-1]["loss_soft"] is None
    with pytest.raises(AssertionError, match="similarity term computed"):      # with a weight, it is
        train(small_run(tmp_path, manifest, tmp_path / "fs", teacher=str(teacher), fs_weight=0.01))


def test_the_mesh_keeper_is_zero_on_the_wheels_trunk_and_trains_only_the_trunk():
    """Learning without forgetting (training/keep_mesh.py): with the wheel's own trunk the kept
    mesh is exactly the original's; a changed trunk costs, and only the trunk gets the gradient."""
    from core.face_mesh_net import FaceMeshTrunk, load_trunk_weights
    from training.keep_mesh import MeshKeeper, mesh_drift
    from training.tflite_weights import load_face_mesh_net
    keeper = MeshKeeper(load_face_mesh_net())
    trunk = FaceMeshTrunk()
    load_trunk_weights(trunk, keeper.reference.trunk.state_dict())
    images = torch.rand(2, 3, 192, 192) * 255
    assert mesh_drift(trunk, images, keeper) == pytest.approx(0.0, abs=1e-9)
    with torch.no_grad():
        trunk.conv2d_1.weight.mul_(1.1)
    assert mesh_drift(trunk, images, keeper) > 0.01
    loss = keeper.loss(images, trunk(images / 255))
    assert loss.item() > 0.01
    loss.backward()
    assert trunk.conv2d_1.weight.grad is not None and trunk.conv2d_1.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in keeper.parameters())
    with pytest.raises(ValueError, match="192 px"):
        keeper.loss(torch.rand(1, 3, 128, 128), trunk(torch.rand(1, 3, 128, 128)))


def test_training_keeps_the_mesh_where_asked_and_refuses_where_the_head_cannot_read(tmp_path):
    manifest = tiny_corpus(tmp_path)
    mesh = ModelConfig(encoder="face_mesh", input_size=192, deconv_channels=16)
    last = lambda run: json.loads((tmp_path / run / "log.jsonl").read_text().splitlines()[-1])   # noqa: E731
    # The hooked features are the student's trunk on the same crops: unchanged (lr 0) it reads the
    # original mesh exactly; trained, it drifts and the term says so.
    train(small_run(tmp_path, manifest, tmp_path / "k0", model=mesh, pretrained=True, keep_mesh_weight=0.1,
                    lr=0.0, weight_decay=0.0))
    assert last("k0")["loss_keep_mesh"] == pytest.approx(0.0, abs=1e-6)
    train(small_run(tmp_path, manifest, tmp_path / "k", model=mesh, pretrained=True, keep_mesh_weight=0.1))
    assert last("k")["loss_keep_mesh"] > 0.1 and last("k")["loss_fa"] is None
    plain = train(small_run(tmp_path, manifest, tmp_path / "p", model=mesh, pretrained=True))
    assert last("p")["loss_keep_mesh"] is None
    assert load_checkpoint(plain).model.config == mesh
    for model in (replace(mesh, input_size=128), ModelConfig(width=0.35, deconv_channels=16)):
        with pytest.raises(TrainingError, match="keep-mesh-weight"):
            TrainingRun(small_run(tmp_path, manifest, tmp_path / "r", model=model, keep_mesh_weight=0.1))
