"""Fit the map from MediaPipe's face mesh to our 68 or 98 points, and export the mesh network with it.

    python -m training.mesh_map --data cache/corpus2/manifest.jsonl --cv-scales 1.35 1.7 2.0 2.3
    python -m training.mesh_map --data cache/corpus2/manifest.jsonl --export       # weights/mesh68.onnx
    python -m training.mesh_map --data cache/corpus2/manifest98.jsonl --export     # weights/mesh98.onnx

The mesh network is the mediapipe wheel's face_landmark.tflite, rebuilt in PyTorch
(core/face_mesh_net.py, its weights read from the installed wheel). On each training face
(the manifest's train split, the crop framed from its labels at `scale` x their extent, as
core/mesh_blend.py frames it from the face network's crop) it gives 468 vertices; each of the
manifest's points (dlib's 68, or the 98 WFLW points) is then a ridge regression on the x and y of
the `neighbours` vertices nearest that point on the mean face, plus a constant, in crop pixels.
Each face is fitted on its exact crop and on `--views` crops moved by FRAMING_JITTER (seeded): in
the app the crop comes from the last frame's points, and a map fitted on exact crops alone fails
on a crop moved a little. A closed form and
fixed seeds: the same data gives the same file.

The framing scale and the regression's settings are chosen by cross-validation over the
*training* people (`--cv-scales`: five folds of people, each face's NME when its people were left
out, people weighted, on exact and on jittered crops), never on the steering set that then scores
the blend (weights/MODEL_CARD.md, rounds 22 and 27).
"""
from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.geometry import apply_affine, crop_from_landmarks, warp_crop
from core.landmarks import layout_for
from core.mesh_blend import CONFIG_KEY, MeshBlendConfig, mesh_blend_model
from core.metrics import nme
from core.onnx_graph import layout_friendly, trace_onnx
from training.augment import AugmentConfig, jitter_crop
from training.datasets import FaceSample, load_samples, read_rgb_cached
from training.evaluate import person_weighted_nme

log = logging.getLogger(__name__)
MESH_VERTICES = 468
DEFAULT_VIEWS = 2
CV_VIEWS = (0, 2)


@dataclass(frozen=True)
class MapFit:
    """The regression's settings (chosen by `cross_validate` over the training people)."""
    neighbours: int = 128         # mesh vertices per point
    ridge: float = 1.0            # L2 penalty, in crop pixels squared


# In the app the mesh's crop is the face network's, framed from the last frame's points, not from
# true labels: fitted on such crops too, the map learns to follow the face, not the frame.
FRAMING_JITTER = AugmentConfig(max_rotation_deg=10.0, scale_range=(0.9, 1.1), max_shift=0.05)


def crop_meshes(net: nn.Module, samples: list[FaceSample], cfg: MeshBlendConfig, jitter_seed: int | None = None,
                batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(N, 468, 2) mesh vertices and (N, P, 2) labels, both in crop pixels of each face's crop
    framed from its labels at `cfg.scale`; with `jitter_seed`, that crop moved by FRAMING_JITTER."""
    meshes, labels = [], []
    rng = np.random.default_rng(jitter_seed)
    net.eval()
    with torch.no_grad():
        for i in range(0, len(samples), batch):
            chunk = samples[i:i + batch]
            crops = [crop_from_landmarks(s.points, layout_for(len(s.points)), cfg.scale) for s in chunk]
            if jitter_seed is not None:
                crops = [jitter_crop(c, rng, FRAMING_JITTER) for c in crops]
            patches = np.stack([warp_crop(read_rgb_cached(str(s.image)), c, cfg.size) for s, c in zip(chunk, crops)])
            x = torch.from_numpy(patches.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
            meshes.append(net(x)[0].numpy().reshape(len(chunk), MESH_VERTICES, 3)[:, :, :2])
            labels += [apply_affine(c.matrix(cfg.size), s.points) for s, c in zip(chunk, crops)]
    return np.concatenate(meshes), np.array(labels, np.float32)


def fit_map(meshes: np.ndarray, labels: np.ndarray, fit: MapFit) -> tuple[np.ndarray, np.ndarray]:
    """(W (936, 2P), b (2P,)) for P points: labels ~ meshes.reshape(N, 936) @ W + b, each point from
    its `fit.neighbours` nearest vertices only (the rest of its column zero)."""
    n, num_points = len(meshes), labels.shape[1]
    mean_mesh, mean_label = meshes.mean(0), labels.mean(0)
    weights = np.zeros((MESH_VERTICES * 2, num_points * 2))
    bias = np.zeros(num_points * 2)
    for j in range(num_points):
        near = np.argsort(((mean_mesh - mean_label[j]) ** 2).sum(1))[:fit.neighbours]
        features = np.concatenate([meshes[:, near].reshape(n, -1), np.ones((n, 1))], axis=1)
        gram = features.T @ features + fit.ridge * np.eye(features.shape[1])
        solved = np.linalg.solve(gram, features.T @ labels[:, j])          # (2K + 1, 2)
        rows = np.stack([2 * near, 2 * near + 1], axis=1).reshape(-1)      # x, y of each vertex
        weights[rows, 2 * j:2 * j + 2] = solved[:-1]
        bias[2 * j:2 * j + 2] = solved[-1]
    return weights, bias


def apply_map(meshes: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return (meshes.reshape(len(meshes), -1) @ weights + bias).reshape(len(meshes), -1, 2)


@dataclass
class FittingData:
    """The training faces' meshes and labels: framed exactly, then each jittered view."""
    samples: list[FaceSample]
    exact: tuple[np.ndarray, np.ndarray]
    jittered: list[tuple[np.ndarray, np.ndarray]]

    def fitted_on(self, rows: np.ndarray, views: int) -> tuple[np.ndarray, np.ndarray]:
        """Meshes and labels of `rows` framed exactly and in their first `views` jittered views."""
        parts = [self.exact] + self.jittered[:views]
        return np.concatenate([m[rows] for m, _ in parts]), np.concatenate([lab[rows] for _, lab in parts])


def fitting_data(net: nn.Module, samples: list[FaceSample], cfg: MeshBlendConfig, views: int) -> FittingData:
    return FittingData(samples, crop_meshes(net, samples, cfg),
                       [crop_meshes(net, samples, cfg, jitter_seed=v) for v in range(views)])


def cross_validate(data: FittingData, fit: MapFit, views: int, folds: int = 5, seed: int = 0
                   ) -> tuple[float, float]:
    """People-weighted NME of every face with the map fitted on the other folds' people (their
    exact crops and `views` jittered views each): on exact crops, and on one jittered view."""
    samples = data.samples
    people = sorted({s.person for s in samples})
    np.random.default_rng(seed).shuffle(people)
    fold_of = {p: i % folds for i, p in enumerate(people)}
    fold = np.array([fold_of[s.person] for s in samples])
    errors = np.zeros((2, len(samples)))
    for f in range(folds):
        weights, bias = fit_map(*data.fitted_on(np.where(fold != f)[0], views), fit)
        held = np.where(fold == f)[0]
        for k, (meshes, labels) in enumerate((data.exact, data.jittered[-1])):   # the last view: never fitted on
            pred = apply_map(meshes[held], weights, bias)
            errors[k, held] = [nme(p, labels[i], layout_for(len(p))) for p, i in zip(pred, held)]   # scale-free
    return person_weighted_nme(errors[0], samples), person_weighted_nme(errors[1], samples)


class MeshToPoints(nn.Module):
    """The mesh network's mesh head and the map: (N, 3, S, S) RGB 0-255 -> (N, P, 2) crop pixels.
    The face-flag head is left out: the app frames faces itself."""

    def __init__(self, net: nn.Module, weights: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.net = net
        self.num_points = weights.shape[1] // 2
        self.map = nn.Linear(MESH_VERTICES * 2, self.num_points * 2)
        with torch.no_grad():
            self.map.weight.copy_(torch.from_numpy(weights.T.astype(np.float32)))
            self.map.bias.copy_(torch.from_numpy(bias.astype(np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mesh = self.net.mesh(self.net.trunk(x / 255.0)).view(-1, MESH_VERTICES, 3)[:, :, :2].flatten(1)
        return self.map(mesh).view(-1, self.num_points, 2)


def export(model: MeshToPoints, cfg: MeshBlendConfig, out: Path) -> Path:
    """ONNX (fp32) with the framing in its metadata (core/mesh_blend.py reads it)."""
    import onnx
    # The rewrites the face models' exports get: the same numbers, in ONNX Runtime's blocked layout.
    graph = trace_onnx(layout_friendly(model, cfg.size), cfg.size, "faces", "points")
    proto = onnx.load_from_string(graph)
    entry = proto.metadata_props.add()
    entry.key, entry.value = CONFIG_KEY, json.dumps(cfg.to_dict())
    out.write_bytes(proto.SerializeToString())
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="corpus manifest (its train split is fitted on)")
    parser.add_argument("--scale", type=float, default=MeshBlendConfig.scale, help="crop side / the labels' extent")
    parser.add_argument("--neighbours", type=int, default=MapFit.neighbours)
    parser.add_argument("--ridge", type=float, default=MapFit.ridge)
    parser.add_argument("--views", type=int, default=DEFAULT_VIEWS,
                        help="jittered crops of each training face fitted on, beside its exact crop")
    parser.add_argument("--cv-scales", type=float, nargs="*", metavar="SCALE",
                        help="print the cross-validation table over these scales and settings; fit nothing")
    parser.add_argument("--export", type=Path, nargs="?", const=True, metavar="ONNX",
                        help=f"fit on all training people and write the mesh network + map (default "
                             f"{mesh_blend_model(68)} or {mesh_blend_model(98).name}, by the manifest's points)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.cv_scales and not args.export:
        parser.error("give --cv-scales and/or --export")
    from training.tflite_weights import load_face_mesh_net
    torch.set_num_threads(args.threads)
    net = load_face_mesh_net()
    samples = load_samples(args.data, "train")
    if not samples:
        parser.error(f"{args.data} has no train split")
    if args.cv_scales:
        print(f"{len(samples)} training faces of {len({s.person for s in samples})} people, 5 folds of people; "
              f"NME people weighted, of the held-out folds\n")
        print("| scale | jittered views fitted | neighbours | ridge | exact crops | jittered crops |\n|---|---|---|---|---|---|")
        for scale in args.cv_scales:
            data = fitting_data(net, samples, replace(MeshBlendConfig(), scale=scale), CV_VIEWS[-1] + 1)
            for views in CV_VIEWS:
                for fit in (MapFit(32, 0.1), MapFit(64, 1.0), MapFit(128, 1.0)):
                    exact, jittered = cross_validate(data, fit, views)
                    print(f"| {scale} | {views} | {fit.neighbours} | {fit.ridge} | {exact:.4f} | {jittered:.4f} |",
                          flush=True)
    if args.export:
        points = len(samples[0].points)
        cfg = replace(MeshBlendConfig(), scale=args.scale, points=points)
        out = mesh_blend_model(points) if args.export is True else args.export
        data = fitting_data(net, samples, cfg, args.views)
        weights, bias = fit_map(*data.fitted_on(np.arange(len(samples)), args.views), MapFit(args.neighbours, args.ridge))
        log.info("wrote %s", export(MeshToPoints(net, weights, bias), cfg, out))


if __name__ == "__main__":
    main()
