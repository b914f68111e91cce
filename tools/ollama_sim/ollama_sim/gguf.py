"""Just enough GGUF: check the magic, read the metadata, write small synthetic files.

Synthetic files are real GGUF v3 headers (metadata only, no tensors) followed by deterministic
filler, so `show` reads real metadata from them while llama.cpp refuses to run them.
"""

import hashlib
import struct
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"

_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_UINT32, _UINT64, _FLOAT32, _BOOL = 4, 10, 6, 7

# general.file_type -> the quantization level name Ollama reports.
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    12: "Q3_K_M",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "BF16",
}


class NotGGUF(ValueError):
    """The bytes do not start with the GGUF magic."""


def has_magic(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == MAGIC


def _read(handle: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise NotGGUF("truncated GGUF header")
    return struct.unpack(fmt, data)[0]


def _read_string(handle: BinaryIO) -> str:
    length = _read(handle, "<Q")
    return handle.read(length).decode("utf-8", errors="replace")


def _read_value(handle: BinaryIO, kind: int) -> Any:
    if kind in _SCALARS:
        return _read(handle, _SCALARS[kind])
    if kind == _STRING:
        return _read_string(handle)
    if kind == _ARRAY:
        item_kind, count = _read(handle, "<I"), _read(handle, "<Q")
        # Arrays (the tokenizer's vocabulary, ...) are skipped: Ollama's show reports them null.
        if item_kind in _SCALARS:
            handle.seek(struct.calcsize(_SCALARS[item_kind]) * count, 1)
        else:
            for _ in range(count):
                _read_value(handle, item_kind)
        return None
    raise NotGGUF(f"unknown GGUF value type {kind}")


def read_metadata(path: Path) -> dict[str, Any]:
    """The key/value metadata of a GGUF file (arrays as None)."""
    with path.open("rb") as handle:
        if handle.read(4) != MAGIC:
            raise NotGGUF(str(path))
        _version, _tensors, count = _read(handle, "<I"), _read(handle, "<Q"), _read(handle, "<Q")
        metadata: dict[str, Any] = {}
        for _ in range(count):
            key = _read_string(handle)
            metadata[key] = _read_value(handle, _read(handle, "<I"))
        return metadata


def _encode_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _encode_value(value: Any) -> bytes:
    if isinstance(value, bool):
        return struct.pack("<I?", _BOOL, value)
    if isinstance(value, int):
        return (
            struct.pack("<IQ", _UINT64, value)
            if value >= 2**32
            else struct.pack("<II", _UINT32, value)
        )
    if isinstance(value, float):
        return struct.pack("<If", _FLOAT32, value)
    if isinstance(value, str):
        return struct.pack("<I", _STRING) + _encode_string(value)
    raise TypeError(f"cannot encode {type(value).__name__} as GGUF metadata")


def write_synthetic(path: Path, metadata: dict[str, Any], size: int) -> None:
    """Write a GGUF v3 header with `metadata`, padded to `size` bytes with seeded filler."""
    header = bytearray(MAGIC + struct.pack("<IQQ", 3, 0, len(metadata)))
    for key, value in metadata.items():
        header += _encode_string(key) + _encode_value(value)
    if len(header) > size:
        raise ValueError("size is smaller than the GGUF header")
    seed = hashlib.sha256(bytes(header)).digest()
    with path.open("wb") as handle:
        handle.write(header)
        remaining, counter = size - len(header), 0
        while remaining > 0:
            block = hashlib.shake_256(seed + counter.to_bytes(8, "little")).digest(
                min(remaining, 1 << 20)
            )
            handle.write(block)
            remaining -= len(block)
            counter += 1


def human_parameter_count(count: int) -> str:
    """Ollama's parameter_size text: 8.0B, 134.52M."""
    if count >= 1_000_000_000:
        return f"{count / 1e9:.1f}B"
    if count >= 1_000_000:
        return f"{count / 1e6:.2f}M"
    return f"{count / 1e3:.2f}K"
