"""MobileFAN: MobileNetV2 encoder + three stride-2 deconvolutions + 1x1 heatmap head.

Zhao et al., "MobileFAN: Transferring Deep Hidden Representation for Face
Alignment", Pattern Recognition 2020. The same class builds the teacher (a
wider encoder and wider deconvolutions), so student and teacher expose their
hidden feature maps at the same three resolutions for distillation.

MobileNetV2 is written out here because torchvision's wheels do not load
beside the pinned CPU torch; it is the standard architecture (Sandler et al.
2018) without the final 1280-channel layer, which MobileFAN does not use.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from core.config import CHECKPOINT_FORMAT_VERSION, ENCODERS, TRUNK_ACTIVATIONS, ModelConfig
from core.face_mesh_net import FaceMeshTrunk
from core.weights import WeightsError

# (expansion t, output channels c, repeats n, first stride s), as in the MobileNetV2 paper.
_MOBILENETV2_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _make_divisible(value: float, divisor: int = 8) -> int:
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = cin * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(_conv_bn_relu(cin, hidden, 1))
        layers += [_conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2Encoder(nn.Module):
    """Output stride 32: a 128x128 face becomes a 4x4 grid of features."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        channels = _make_divisible(32 * width)
        layers: list[nn.Module] = [_conv_bn_relu(3, channels, 3, stride=2)]
        for t, c, n, s in _MOBILENETV2_BLOCKS:
            out = _make_divisible(c * width)
            for i in range(n):
                layers.append(InvertedResidual(channels, out, s if i == 0 else 1, t))
                channels = out
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class MobileFAN(nn.Module):
    """Heatmap regressor; `forward_with_features` also returns the three
    deconvolution outputs (strides 16, 8, 4) used by feature distillation.

    The encoder is MobileNetV2 (the paper's student), or the trunk of MediaPipe's face-landmark
    network (`encoder="face_mesh"`: the teacher, which starts from the weights its authors
    trained; training/tflite_weights.py)."""

    def __init__(self, config: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        if config.num_points not in (68, 98):
            raise ValueError(f"num_points must be 68 or 98, got {config.num_points}")
        if config.input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {config.input_size}")
        if config.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {config.encoder!r}")
        if config.trunk_activation not in TRUNK_ACTIVATIONS:
            raise ValueError(f"trunk_activation must be one of {', '.join(TRUNK_ACTIVATIONS)}, "
                             f"got {config.trunk_activation!r}")
        if config.trunk_activation != "prelu" and config.encoder != "face_mesh":
            raise ValueError("trunk_activation applies to the face_mesh encoder only (MobileNetV2 uses ReLU6)")
        self.config = config
        self.encoder = MobileNetV2Encoder(config.width) if config.encoder == "mobilenetv2" else \
            FaceMeshTrunk(config.trunk_activation)
        deconvs = []
        cin = self.encoder.out_channels
        for _ in range(3):
            deconvs.append(nn.Sequential(
                nn.ConvTranspose2d(cin, config.deconv_channels, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(config.deconv_channels),
                nn.ReLU(inplace=True),
            ))
            cin = config.deconv_channels
        self.deconvs = nn.ModuleList(deconvs)
        self.head = nn.Conv2d(cin, config.num_points, 1)
        # Input normalisation lives in the network so every runtime (eager,
        # TorchScript, ONNX) takes the same raw 0..255 RGB tensor: ImageNet statistics for
        # MobileNetV2, [0, 1] for the face-mesh trunk (as MediaPipe feeds it).
        if config.encoder == "mobilenetv2":
            mean, std = torch.tensor([0.485, 0.456, 0.406]) * 255, torch.tensor([0.229, 0.224, 0.225]) * 255
        else:
            mean, std = torch.zeros(3), torch.full((3,), 255.0)
        self.register_buffer("mean", mean.view(1, 3, 1, 1))
        self.register_buffer("std", std.view(1, 3, 1, 1))

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.encoder((x - self.mean) / self.std)
        features = []
        for deconv in self.deconvs:
            x = deconv(x)
            features.append(x)
        return self.head(x), features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_features(x)[0]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@dataclass
class LoadedModel:
    model: MobileFAN            # its `config` says how it was built and trained
    meta: dict
    path: Path


def save_checkpoint(model: MobileFAN, path: str | Path, meta: dict | None = None,
                    half: bool = True) -> None:
    """Write weights with the config that built them. fp16 storage halves the
    file; the weights are cast back to fp32 on load, costing no accuracy we can measure."""
    state = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
             for k, v in model.state_dict().items()}
    payload = {"format": "mobilefan", "format_version": CHECKPOINT_FORMAT_VERSION,
               "model_config": model.config.to_dict(), "meta": meta or {}, "state_dict": state}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path, expected_points: int | None = None) -> LoadedModel:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - torch raises a zoo of types for a bad file; all mean "not ours"
        # Not torch's text: it suggests weights_only=False, i.e. running code from an unknown file.
        raise WeightsError(f"{path}: not a MobileFAN checkpoint (damaged, or another kind of file)") from None
    if not isinstance(payload, dict) or payload.get("format") != "mobilefan":
        raise WeightsError(f"weights file {path} is not a MobileFAN checkpoint")
    version = payload.get("format_version")
    if version != CHECKPOINT_FORMAT_VERSION:
        raise WeightsError(f"weights file {path} has format version {version}; "
                           f"this build reads version {CHECKPOINT_FORMAT_VERSION}")
    config = ModelConfig.from_dict(payload["model_config"])
    if expected_points is not None and config.num_points != expected_points:
        raise WeightsError(f"weights file {path} predicts {config.num_points} points, "
                           f"but {expected_points} were asked for")
    model = MobileFAN(config)
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in payload["state_dict"].items()}
    broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise WeightsError(f"weights file {path} holds non-finite values (NaN or infinity) in "
                           f"{len(broken)} tensors, e.g. {broken[0]}: the training run diverged or the file is damaged")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise WeightsError(f"weights file {path} does not match its recorded architecture: {exc}") from exc
    model.eval()
    return LoadedModel(model=model, meta=payload.get("meta", {}), path=path)
