"""Learning without forgetting for the face-mesh trunk: keep the mesh it could read.

MediaPipe's face-landmark network was trained by its authors on far more people than our
corpus holds (~50). Fine-tuned on our faces, its trunk fits them better and strangers no
better (weights/MODEL_CARD.md, rounds 6 and 10: 12 more epochs lowered the training loss by a
fifth and left the steering set where it was); frozen, it does not carry dlib's layout well
(1.08x the fine-tuned error). In between: the trunk is fine-tuned, and the wheel's own mesh
head, frozen, reads its features; its 468-vertex mesh is kept near what the original network
reads from the same crop (Li and Hoiem, "Learning without Forgetting", 2016: the old task's
answers on the new data as targets). The trunk may change only in ways the mesh does not see.

The mesh head needs the trunk's 6 x 6 map, i.e. 192 px crops, as the network was made for.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.face_mesh_net import FaceMeshNet

MESH_INPUT_SIZE = 192


def reads_mesh(config) -> bool:
    """Whether the mesh head can read this model's trunk (a core.config.ModelConfig): the
    face-mesh trunk at the 192 px it was made for."""
    return config.encoder == "face_mesh" and config.input_size == MESH_INPUT_SIZE


class MeshKeeper(nn.Module):
    """`loss(images, trunk_features)`: mean squared difference, in input pixels, between the mesh
    the frozen head reads from the trained trunk's features and the original network's mesh of
    the same crops. `images` are the trainer's raw 0..255 RGB batches."""

    def __init__(self, reference: FaceMeshNet) -> None:
        super().__init__()
        self.reference = reference.eval()
        for p in self.reference.parameters():
            p.requires_grad_(False)

    def loss(self, images: torch.Tensor, trunk_features: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] != MESH_INPUT_SIZE:
            raise ValueError(f"the mesh head reads {MESH_INPUT_SIZE} px crops, got {images.shape[-1]} px")
        with torch.no_grad():
            target = self.reference.mesh(self.reference.trunk(images / 255.0))
        return F.mse_loss(self.reference.mesh(trunk_features), target)


def mesh_drift(trunk: nn.Module, crops: torch.Tensor, keeper: MeshKeeper) -> float:
    """How far a trained trunk has moved from the wheel's, as the mesh head sees it: the keeper's
    loss (mean squared difference of the mesh, input pixels) on (N, 3, 192, 192) 0..255 crops."""
    with torch.no_grad():
        return float(keeper.loss(crops, trunk(crops / 255.0)))


def main(argv: list[str] | None = None) -> None:
    """Print each checkpoint's mesh drift on every 20th face of a manifest split (framed as evaluated)."""
    import argparse

    from core.model import load_checkpoint
    from core.threads import set_thread_counts
    from training.datasets import load_samples
    from training.evaluate import sample_crops
    from training.tflite_weights import load_face_mesh_net

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--data", required=True, help="manifest.jsonl")
    parser.add_argument("--split", default="train")
    args = parser.parse_args(argv)
    set_thread_counts(2)
    samples = load_samples(args.data, args.split)[::20]
    keeper = MeshKeeper(load_face_mesh_net())
    print(f"| checkpoint | mesh drift, input px^2 ({len(samples)} {args.split} faces) |\n|---|---|")
    for path in args.checkpoints:
        model = load_checkpoint(path).model.eval()
        if not reads_mesh(model.config):
            parser.error(f"{path}: the mesh head reads a face_mesh trunk at {MESH_INPUT_SIZE} px")
        print(f"| {path} | {mesh_drift(model.encoder, torch.from_numpy(sample_crops(model, samples)), keeper):.3f} |")


if __name__ == "__main__":
    main()
