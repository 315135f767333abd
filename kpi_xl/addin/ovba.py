"""VBA project storage ([MS-OVBA]): read and replace module source text in vbaProject.bin.

A VBA project keeps each module's source as a compressed container at ``MODULEOFFSET`` in
its module stream; bytes before that offset are a p-code "performance cache". The cache is
only used when the ``_VBA_PROJECT`` stream's version matches the running VBA; the project
``xlwings quickstart`` ships has version ``0xFFFF`` and no cache there, so Excel compiles
every module from source (the quickstart's own ``xlwings`` module is already stored like
this, at offset 0). :func:`set_module_source` writes a module the same way: new compressed
source at offset 0 and ``MODULEOFFSET`` set to 0 in the ``dir`` stream.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from kpi_xl.addin.cfb import CompoundFile

CHUNK = 4096

# dir stream record ids ([MS-OVBA] 2.3.4.2)
PROJECTCODEPAGE = 0x0003
PROJECTVERSION = 0x0009
MODULENAME = 0x0019
MODULESTREAMNAME = 0x001A
MODULEOFFSET = 0x0031
MODULE_TERMINATOR = 0x002B


class OvbaError(ValueError):
    """The VBA storage is not in a form this module understands."""


# -- compression ([MS-OVBA] 2.4.1) ----------------------------------------------------------
def _copy_token_bits(position: int) -> int:
    """Bits of a copy token used for the offset at ``position`` in a decompressed chunk."""
    return max((position - 1).bit_length(), 4)


def decompress(data: bytes) -> bytes:
    """Decompress a CompressedContainer."""
    if not data or data[0] != 1:
        raise OvbaError("compressed container must start with 0x01")
    out = bytearray()
    pos = 1
    while pos < len(data):
        if pos + 2 > len(data):
            break
        header = struct.unpack_from("<H", data, pos)[0]
        size = (header & 0x0FFF) + 3
        compressed = bool(header & 0x8000)
        chunk_end = min(pos + size, len(data))
        pos += 2
        start = len(out)
        if not compressed:
            out += data[pos : pos + CHUNK]
            pos += CHUNK
            continue
        while pos < chunk_end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bits = _copy_token_bits(len(out) - start)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                src = len(out) - offset
                if src < start:
                    raise OvbaError("copy token points before the chunk")
                for i in range(length):
                    out.append(out[src + i])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    """One CompressedChunk (header + data) for up to 4096 decompressed bytes."""
    body = bytearray()
    pos = 0
    index: dict[bytes, list[int]] = {}
    n = len(chunk)

    def remember(upto: int, frm: int) -> None:
        for p in range(frm, upto):
            if p + 3 <= n:
                index.setdefault(chunk[p : p + 3], []).append(p)

    while pos < n:
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            bits = _copy_token_bits(pos)
            max_length = (0xFFFF >> bits) + 3
            max_offset = 1 << bits
            best_len, best_off = 0, 0
            for cand in reversed(index.get(chunk[pos : pos + 3], [])):
                if pos - cand > max_offset:
                    break
                length = 0
                limit = min(max_length, n - pos)
                while length < limit and chunk[cand + length] == chunk[pos + length]:
                    length += 1
                if length > best_len:
                    best_len, best_off = length, pos - cand
                    if length == limit:
                        break
            if best_len >= 3:
                token = ((best_off - 1) << (16 - bits)) | (best_len - 3)
                body += struct.pack("<H", token)
                flags |= 1 << bit
                remember(pos + best_len, pos)
                pos += best_len
            else:
                body.append(chunk[pos])
                remember(pos + 1, pos)
                pos += 1
        body[flag_at] = flags
    if len(body) > CHUNK:
        if len(chunk) != CHUNK:
            raise OvbaError("incompressible final chunk")  # cannot happen for source text
        return struct.pack("<H", 0x3FFF) + chunk
    return struct.pack("<H", 0xB000 | (len(body) - 1)) + bytes(body)


def compress(data: bytes) -> bytes:
    """Compress ``data`` into a CompressedContainer (signature byte + chunks)."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        out += _compress_chunk(data[start : start + CHUNK])
    return bytes(out)


# -- dir stream ---------------------------------------------------------------------------
@dataclass
class Record:
    """One dir-stream record: id and payload (PROJECTVERSION keeps its 6-byte payload)."""

    rid: int
    data: bytes


def parse_dir(raw: bytes) -> list[Record]:
    """Split a decompressed dir stream into records."""
    records: list[Record] = []
    pos = 0
    while pos + 6 <= len(raw):
        rid, size = struct.unpack_from("<HI", raw, pos)
        pos += 6
        if rid == PROJECTVERSION:
            size = 6  # Reserved field says 4; the record carries 6 bytes of version
        records.append(Record(rid, raw[pos : pos + size]))
        pos += size
    return records


def serialize_dir(records: list[Record]) -> bytes:
    """Join records back into a decompressed dir stream."""
    out = bytearray()
    for r in records:
        size = 4 if r.rid == PROJECTVERSION else len(r.data)
        out += struct.pack("<HI", r.rid, size) + r.data
    return bytes(out)


@dataclass
class ModuleInfo:
    """A module as the dir stream describes it."""

    name: str
    stream_name: str
    offset: int


class VbaProject:
    """A vbaProject.bin opened for reading and editing module source."""

    def __init__(self, blob: bytes) -> None:
        self.cfb = CompoundFile.from_bytes(blob)
        self._dir = parse_dir(decompress(self.cfb.read("VBA/dir")))
        cp = next((r for r in self._dir if r.rid == PROJECTCODEPAGE), None)
        self.codepage = f"cp{struct.unpack('<H', cp.data)[0]}" if cp else "cp1252"

    def modules(self) -> list[ModuleInfo]:
        """The project's modules in dir-stream order."""
        out: list[ModuleInfo] = []
        name = stream = ""
        for r in self._dir:
            if r.rid == MODULENAME:
                name = r.data.decode(self.codepage)
            elif r.rid == MODULESTREAMNAME:
                stream = r.data.decode(self.codepage)
            elif r.rid == MODULEOFFSET:
                out.append(ModuleInfo(name, stream, struct.unpack("<I", r.data)[0]))
        return out

    def _module(self, name: str) -> ModuleInfo:
        for m in self.modules():
            if m.name.lower() == name.lower():
                return m
        raise KeyError(f"no VBA module {name!r}")

    def module_source(self, name: str) -> str:
        """A module's source text (CRLF line ends, as stored)."""
        m = self._module(name)
        stream = self.cfb.read(f"VBA/{m.stream_name}")
        return decompress(stream[m.offset :]).decode(self.codepage)

    def sources(self) -> dict[str, str]:
        """Every module's source by module name."""
        return {m.name: self.module_source(m.name) for m in self.modules()}

    def set_module_source(self, name: str, source: str) -> None:
        """Replace a module's source; drop its p-code cache (MODULEOFFSET = 0)."""
        m = self._module(name)
        text = re.sub(r"\r?\n", "\r\n", source)
        self.cfb.write(f"VBA/{m.stream_name}", compress(text.encode(self.codepage)))
        current = ""
        for r in self._dir:
            if r.rid == MODULENAME:
                current = r.data.decode(self.codepage)
            elif r.rid == MODULEOFFSET and current.lower() == name.lower():
                r.data = struct.pack("<I", 0)
        self.cfb.write("VBA/dir", compress(serialize_dir(self._dir)))

    def project_version(self) -> int:
        """The ``_VBA_PROJECT`` version field (0xFFFF: no usable p-code, compile from source)."""
        raw = self.cfb.read("VBA/_VBA_PROJECT")
        return struct.unpack_from("<H", raw, 2)[0]

    def to_bytes(self) -> bytes:
        """The edited vbaProject.bin."""
        return self.cfb.to_bytes()
