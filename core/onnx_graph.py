"""MobileFAN as an ONNX graph, tagged with the checkpoint it came from.

The runtimes build the fp32 graph in memory when no exported file matches
(~1-2 s); `python -m training.export` writes files (and the int8
version) ahead of time. Every graph records its checkpoint's SHA-256, so a
stale export is never used with other weights.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch

from core.model import MobileFAN

ONNX_OPSET = 17
CHECKPOINT_KEY = "mobilefan_checkpoint_sha256"


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def export_onnx(model: MobileFAN, source_sha: str = "") -> bytes:
    """ONNX (opset 17) with a dynamic batch axis; records the checkpoint hash as metadata."""
    size = model.config.input_size
    example = torch.zeros(1, 3, size, size)
    buffer = io.BytesIO()
    torch.onnx.export(model.eval(), (example,), buffer, input_names=["image"], output_names=["heatmaps"],
                      dynamic_axes={"image": {0: "batch"}, "heatmaps": {0: "batch"}},
                      opset_version=ONNX_OPSET, dynamo=False)
    return tag_with_checkpoint(buffer.getvalue(), source_sha) if source_sha else buffer.getvalue()


def tag_with_checkpoint(onnx_bytes: bytes, source_sha: str) -> bytes:
    """Record which checkpoint an ONNX graph was made from."""
    import onnx
    proto = onnx.load_from_string(onnx_bytes)
    entry = proto.metadata_props.add()
    entry.key, entry.value = CHECKPOINT_KEY, source_sha
    return proto.SerializeToString()


def onnx_metadata_sha(path: str | Path) -> str:
    import onnx
    proto = onnx.load(str(path), load_external_data=False)
    return next((p.value for p in proto.metadata_props if p.key == CHECKPOINT_KEY), "")


def matching_export(checkpoint: str | Path | None, suffix: str = ".onnx") -> bytes | None:
    """The pre-exported graph beside `checkpoint` (e.g. `.int8.onnx`), if it was made from it."""
    if checkpoint is None:
        return None
    exported = Path(checkpoint).with_suffix(suffix)
    if not exported.exists():
        return None
    try:
        if onnx_metadata_sha(exported) == file_sha256(checkpoint):
            return exported.read_bytes()
    except Exception:  # noqa: BLE001 - an unreadable export is just ignored and rebuilt
        return None
    return None
