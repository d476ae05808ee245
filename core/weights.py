"""A model's files, read without torch: the checkpoint's exported graphs and their config.

A checkpoint `mobilefan_68.pt` (PyTorch, core/model.py) may have exports
beside it: `mobilefan_68.onnx` (fp32) and `mobilefan_68.int8.onnx` (int8),
written by `python -m training.export`. Each export carries, in its ONNX
metadata, what the run time needs to use it on its own:

- `mobilefan_checkpoint_sha256`: the checkpoint it was made from, so a stale
  export (the .pt retrained since) is never used with other weights;
- `mobilefan_model_config`: the checkpoint's `ModelConfig` as JSON
  (architecture, landmark layout, crop framing, heatmap sigma), so the
  pipeline frames and decodes faces exactly as training did.

With both, the default run (ONNX Runtime on the shipped export) never imports
torch: loading it costs ~0.8 s of a 2 s start-up (bench/startup.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from core.config import ModelConfig
from core.errors import MobileFANError

CHECKPOINT_KEY = "mobilefan_checkpoint_sha256"
CONFIG_KEY = "mobilefan_model_config"


class WeightsError(MobileFANError):
    """A weights file is missing, corrupt or describes a different model."""


@dataclass(frozen=True)
class Export:
    """An ONNX graph made from a checkpoint, with that checkpoint's config."""

    path: Path
    data: bytes
    config: ModelConfig | None          # None: an export made before configs travelled with them


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def onnx_metadata(data: bytes) -> dict[str, str]:
    """The ONNX file's metadata properties (its `metadata_props`), read with the onnx package.
    (ONNX Runtime's runner reads the same from its session, without importing onnx.)"""
    import onnx
    proto = onnx.load_from_string(data)
    return {p.key: p.value for p in proto.metadata_props}


def export_config(metadata: dict[str, str], checkpoint: Path) -> ModelConfig | None:
    """The config an export's metadata carries, if it was made from `checkpoint` (else None:
    stale, or from other weights). An old export without a config gives None too."""
    if metadata.get(CHECKPOINT_KEY) != file_sha256(checkpoint) or CONFIG_KEY not in metadata:
        return None
    return ModelConfig.from_dict(json.loads(metadata[CONFIG_KEY]))


def tag_export(onnx_bytes: bytes, checkpoint_sha: str, config: ModelConfig) -> bytes:
    """Record which checkpoint an ONNX graph was made from, and its config (replacing old tags)."""
    import onnx
    proto = onnx.load_from_string(onnx_bytes)
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in (CHECKPOINT_KEY, CONFIG_KEY)]
    del proto.metadata_props[:]
    for key, value in kept + [(CHECKPOINT_KEY, checkpoint_sha),
                              (CONFIG_KEY, json.dumps(config.to_dict(), sort_keys=True))]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


def export_path(checkpoint: str | Path, suffix: str = ".onnx") -> Path:
    """`weights/mobilefan_68.pt` -> `weights/mobilefan_68.onnx` (or `.int8.onnx`)."""
    return Path(checkpoint).with_suffix(suffix)


def matching_export(checkpoint: str | Path | None, suffix: str = ".onnx") -> Export | None:
    """The export beside `checkpoint` if it was made from exactly that file, else None."""
    if checkpoint is None:
        return None
    path = export_path(checkpoint, suffix)
    if not path.is_file() or not Path(checkpoint).is_file():
        return None
    try:
        data = path.read_bytes()
        meta = onnx_metadata(data)
        if meta.get(CHECKPOINT_KEY) != file_sha256(checkpoint):
            return None
        config = export_config(meta, Path(checkpoint))
    except Exception:  # noqa: BLE001 - an unreadable export is ignored (and rebuilt from the checkpoint)
        return None
    return Export(path, data, config)


def check_points(config: ModelConfig, path: Path, expected: int | None) -> None:
    if expected is not None and config.num_points != expected:
        raise WeightsError(f"weights file {path} predicts {config.num_points} points, "
                           f"but {expected} were asked for")
