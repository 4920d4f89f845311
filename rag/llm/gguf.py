"""A GGUF file's header, read and checked against the file's size without loading the model.

What `kgrag doctor` checks before llama.cpp is asked to load a file: a truncated or damaged file
must be named as such, not found out when a question first loads it. The layout
(https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): magic, version, tensor count,
metadata count, the metadata, the tensor infos, then the tensor data, aligned.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.models.catalogue import ModelMissingError

__all__ = ["INSTALL_HINT", "GgufError", "GgufHeader", "read_gguf_header"]

INSTALL_HINT = "Run `kgrag models --install` (or point --model / KGRAG_MODEL at a GGUF file)."

_GGUF_VERSIONS = (2, 3)
_GGML_MAX_DIMS = 4
_MAX_COUNT = 1 << 32  # more tensors, entries, items or string bytes than this is garbage
_DEFAULT_ALIGNMENT = 32
# Metadata value types: fixed-size ones by their struct code; 8 = string, 9 = array.
_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q",
                 11: "q", 12: "d"}  # fmt: skip
# ggml tensor types: (elements per block, bytes per block). A type missing here (a newer
# quantisation) is still checked to start inside the file, just not to end inside it.
_GGML_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
}  # fmt: skip


@dataclass(frozen=True)
class GgufHeader:
    """What a GGUF file's header says, checked against the file's size."""

    version: int
    tensors: int
    metadata: dict[str, Any]
    needed_bytes: int
    """The bytes the header and every tensor of known type need: the file holds at least these."""

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", ""))


class GgufError(ModelMissingError):
    """A file is not a whole GGUF model: wrong magic, an implausible or truncated header, or
    tensor data that ends past the end of the file."""


def read_gguf_header(path: Path | str) -> GgufHeader:
    """Parse the header of the GGUF file at `path` and check that the file holds every tensor
    it lists; `GgufError` names what is wrong. Reads the header only (milliseconds to a second
    for a large vocabulary), never the tensor data."""
    path = Path(path)
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise GgufError(f"{path} {what}. {INSTALL_HINT}")
    size = path.stat().st_size
    if size < 24:
        raise GgufError(f"{path} has {size} bytes: too short for a GGUF header. {INSTALL_HINT}")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        try:
            return _GgufReader(m).header()
        except _Truncated as exc:
            raise GgufError(
                f"{path} is cut short ({size:,} bytes): {exc}. {INSTALL_HINT}"
            ) from None
        except _Implausible as exc:
            raise GgufError(f"{path} is not a usable GGUF model: {exc}. {INSTALL_HINT}") from None


class _Truncated(Exception):
    pass


class _Implausible(Exception):
    pass


class _GgufReader:
    """Reads the header from a memory map; every read is bounds-checked, so a cut file raises
    `_Truncated` instead of returning garbage."""

    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.at = 0

    def header(self) -> GgufHeader:
        if self.take(4) != b"GGUF":
            raise _Implausible("it does not start with the GGUF magic bytes")
        version = self.unpack("I")
        if version not in _GGUF_VERSIONS:
            raise _Implausible(f"GGUF version {version} is not one llama.cpp reads")
        tensors, entries = self.unpack("Q"), self.unpack("Q")
        if not 0 < tensors <= _MAX_COUNT or entries > _MAX_COUNT:
            raise _Implausible(f"the header claims {tensors:,} tensors and {entries:,} entries")
        metadata = {}
        for _ in range(entries):
            key = self.string()
            metadata[key] = self.value(self.unpack("I"), key)
        infos = [self.tensor_info() for _ in range(tensors)]
        alignment = metadata.get("general.alignment", _DEFAULT_ALIGNMENT)
        if not isinstance(alignment, int) or alignment <= 0:
            raise _Implausible(f"general.alignment is {alignment!r}")
        start = -(-self.at // alignment) * alignment
        needed = max(start + offset + nbytes for offset, nbytes in infos)
        if needed > len(self.data):
            raise _Truncated(f"its tensors need {needed:,} bytes")
        return GgufHeader(version, tensors, metadata, needed)

    def tensor_info(self) -> tuple[int, int]:
        """(offset in the data section, bytes) of one tensor (bytes 1 for an unknown type)."""
        name = self.string()
        dims = self.unpack("I")
        if not 0 < dims <= _GGML_MAX_DIMS:
            raise _Implausible(f"tensor {name!r} has {dims} dimensions")
        elements = 1
        for _ in range(dims):
            elements *= self.unpack("Q")
        kind, offset = self.unpack("I"), self.unpack("Q")
        per_block, block_bytes = _GGML_BLOCKS.get(kind, (1, 0))
        return offset, max(-(-elements // per_block) * block_bytes, 1)

    def value(self, kind: int, key: str) -> Any:
        if kind in _GGUF_SCALARS:
            return self.unpack(_GGUF_SCALARS[kind])
        if kind == 8:
            return self.string()
        if kind != 9:
            raise _Implausible(f"metadata {key!r} has unknown type {kind}")
        item, count = self.unpack("I"), self.unpack("Q")
        if count > _MAX_COUNT:
            raise _Implausible(f"metadata {key!r} claims {count:,} items")
        if item in _GGUF_SCALARS:  # numbers: skipped, not decoded (a vocabulary's scores…)
            self.take(count * struct.calcsize("<" + _GGUF_SCALARS[item]))
        elif item == 8:  # strings (a vocabulary, its merges): skipped, not decoded
            for _ in range(count):
                self.take(self.length())
        else:
            for _ in range(count):
                self.value(item, key)
        return count

    def string(self) -> str:
        return bytes(self.take(self.length())).decode("utf-8", "replace")

    def length(self) -> int:
        length = int(self.unpack("Q"))
        if length > _MAX_COUNT:
            raise _Implausible(f"a string claims {length:,} bytes at byte {self.at:,}")
        return length

    def unpack(self, code: str) -> Any:
        size = struct.calcsize("<" + code)
        (value,) = struct.unpack_from("<" + code, self.take(size))
        return value

    def take(self, size: int) -> bytes:
        end = self.at + size
        if end > len(self.data):
            raise _Truncated(f"the file ends at byte {len(self.data):,}, inside the header")
        chunk = self.data[self.at : end]
        self.at = end
        return chunk
