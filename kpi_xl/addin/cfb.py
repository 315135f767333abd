"""A minimal reader and writer of Compound File Binary files ([MS-CFB]), version 3.

Enough to rewrite ``xl/vbaProject.bin``: read every stream, replace some stream contents
(their sizes may change) and write a new file with the same directory tree (names, order,
colours, sibling links, CLSIDs, state bits and timestamps are kept as read). The layout of
the written file is a pure function of its contents, so a build is reproducible.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
DIFSECT = 0xFFFFFFFC
NOSTREAM = 0xFFFFFFFF

SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096
ENTRY_SIZE = 128

TYPE_UNUSED = 0
TYPE_STORAGE = 1
TYPE_STREAM = 2
TYPE_ROOT = 5


class CfbError(ValueError):
    """The bytes are not a compound file this module can read."""


@dataclass
class DirEntry:
    """One 128-byte directory entry; ``data`` holds a stream's contents."""

    name: str
    entry_type: int
    color: int = 1
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    clsid: bytes = b"\0" * 16
    state_bits: int = 0
    created: int = 0
    modified: int = 0
    data: bytes = b""
    path: str = ""

    def pack(self, start: int, size: int) -> bytes:
        """The entry's 128 bytes with the given starting sector and size."""
        if self.entry_type == TYPE_UNUSED:
            return b"\0" * 64 + struct.pack(
                "<HBBIII16sIQQIQ", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\0" * 16, 0, 0, 0, 0, 0
            )
        raw_name = (self.name + "\0").encode("utf-16-le")
        if len(raw_name) > 64:
            raise CfbError(f"directory entry name too long: {self.name!r}")
        return raw_name.ljust(64, b"\0") + struct.pack(
            "<HBBIII16sIQQIQ",
            len(raw_name),
            self.entry_type,
            self.color,
            self.left,
            self.right,
            self.child,
            self.clsid,
            self.state_bits,
            self.created,
            self.modified,
            start,
            size,
        )


@dataclass
class CompoundFile:
    """The directory entries of a compound file, in directory order (index = stream id)."""

    entries: list[DirEntry] = field(default_factory=list)

    # -- reading -------------------------------------------------------------------------
    @classmethod
    def from_bytes(cls, blob: bytes) -> CompoundFile:
        """Parse a version-3 compound file (512-byte sectors)."""
        if blob[:8] != SIGNATURE:
            raise CfbError("not a compound file (bad signature)")
        (major, sector_shift, mini_shift) = struct.unpack_from("<H2xHH", blob, 26)
        if major != 3 or sector_shift != 9 or mini_shift != 6:
            raise CfbError(f"unsupported compound file: version {major}, shift {sector_shift}")
        (n_fat, first_dir, cutoff, first_minifat, n_minifat, first_difat, n_difat) = (
            struct.unpack_from("<I I 4x I I I I I", blob, 44)
        )
        if cutoff != MINI_STREAM_CUTOFF:
            raise CfbError(f"unsupported mini stream cutoff {cutoff}")

        def sector(index: int) -> bytes:
            offset = (index + 1) * SECTOR_SIZE
            return blob[offset : offset + SECTOR_SIZE]

        fat_sectors = [s for s in struct.unpack_from("<109I", blob, 76) if s != FREESECT]
        difat = first_difat
        for _ in range(n_difat):
            words = struct.unpack("<128I", sector(difat))
            fat_sectors += [s for s in words[:127] if s != FREESECT]
            difat = words[127]
        fat_sectors = fat_sectors[:n_fat]
        fat: list[int] = []
        for s in fat_sectors:
            fat += struct.unpack("<128I", sector(s))

        def chain(start: int, table: list[int]) -> list[int]:
            out: list[int] = []
            while start not in (ENDOFCHAIN, FREESECT):
                if start >= len(table) or len(out) > len(table):
                    raise CfbError("broken sector chain")
                out.append(start)
                start = table[start]
            return out

        def read_chain(start: int) -> bytes:
            return b"".join(sector(s) for s in chain(start, fat))

        directory = read_chain(first_dir)
        minifat: list[int] = []
        if n_minifat:
            raw = read_chain(first_minifat)
            minifat = list(struct.unpack(f"<{len(raw) // 4}I", raw))

        entries: list[DirEntry] = []
        starts: list[tuple[int, int]] = []
        for offset in range(0, len(directory), ENTRY_SIZE):
            raw = directory[offset : offset + ENTRY_SIZE]
            (
                name_len,
                etype,
                color,
                left,
                right,
                child,
                clsid,
                state,
                created,
                modified,
                start,
                size,
            ) = struct.unpack_from("<HBBIII16sIQQIQ", raw, 64)
            name = raw[: max(name_len - 2, 0)].decode("utf-16-le")
            entries.append(
                DirEntry(name, etype, color, left, right, child, clsid, state, created, modified)
            )
            starts.append((start, size & 0xFFFFFFFF))
        if not entries or entries[0].entry_type != TYPE_ROOT:
            raise CfbError("no root entry")
        mini_stream = read_chain(starts[0][0]) if starts[0][1] else b""

        for entry, (start, size) in zip(entries, starts, strict=True):
            if entry.entry_type != TYPE_STREAM:
                continue
            if size < MINI_STREAM_CUTOFF:
                data = b"".join(
                    mini_stream[s * MINI_SECTOR_SIZE : (s + 1) * MINI_SECTOR_SIZE]
                    for s in chain(start, minifat)
                )
            else:
                data = read_chain(start)
            entry.data = data[:size]
        cf = cls(entries)
        cf._assign_paths(entries[0].child, "")
        return cf

    def _assign_paths(self, sid: int, prefix: str) -> None:
        stack = [sid]
        while stack:
            current = stack.pop()
            if current == NOSTREAM:
                continue
            entry = self.entries[current]
            entry.path = prefix + entry.name
            stack += [entry.left, entry.right]
            if entry.entry_type == TYPE_STORAGE:
                self._assign_paths(entry.child, entry.path + "/")

    # -- access --------------------------------------------------------------------------
    def streams(self) -> dict[str, bytes]:
        """Every stream's contents by path ("VBA/dir")."""
        return {e.path: e.data for e in self.entries if e.entry_type == TYPE_STREAM}

    def read(self, path: str) -> bytes:
        """One stream's contents."""
        return self._entry(path).data

    def write(self, path: str, data: bytes) -> None:
        """Replace an existing stream's contents (the size may change)."""
        self._entry(path).data = bytes(data)

    def _entry(self, path: str) -> DirEntry:
        for entry in self.entries:
            if entry.entry_type == TYPE_STREAM and entry.path.lower() == path.lower():
                return entry
        raise KeyError(path)

    # -- writing -------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Serialise: small streams in the mini stream, the rest in regular sectors."""
        mini_stream = bytearray()
        minifat: list[int] = []
        placement: dict[int, tuple[int, int]] = {}  # sid -> (start, size)
        big: list[int] = []
        for sid, entry in enumerate(self.entries):
            if entry.entry_type != TYPE_STREAM:
                continue
            size = len(entry.data)
            if size == 0:
                placement[sid] = (ENDOFCHAIN, 0)
            elif size < MINI_STREAM_CUTOFF:
                first = len(minifat)
                count = math.ceil(size / MINI_SECTOR_SIZE)
                minifat += [*range(first + 1, first + count), ENDOFCHAIN]
                mini_stream += entry.data.ljust(count * MINI_SECTOR_SIZE, b"\0")
                placement[sid] = (first, size)
            else:
                big.append(sid)

        sectors: list[bytes] = []
        fat: list[int] = []

        def allocate(data: bytes) -> int:
            if not data:
                return ENDOFCHAIN
            first = len(sectors)
            count = math.ceil(len(data) / SECTOR_SIZE)
            for i in range(count):
                piece = data[i * SECTOR_SIZE : (i + 1) * SECTOR_SIZE]
                sectors.append(piece.ljust(SECTOR_SIZE, b"\0"))
            fat.extend([*range(first + 1, first + count), ENDOFCHAIN])
            return first

        for sid in big:
            placement[sid] = (allocate(self.entries[sid].data), len(self.entries[sid].data))
        root_start = allocate(bytes(mini_stream))
        minifat_raw = b"".join(struct.pack("<I", s) for s in minifat)
        if minifat_raw:
            pad = (-len(minifat_raw)) % SECTOR_SIZE
            minifat_raw += struct.pack("<I", FREESECT) * (pad // 4)
        first_minifat = allocate(minifat_raw)
        n_minifat = len(minifat_raw) // SECTOR_SIZE

        entries = list(self.entries)
        while len(entries) % (SECTOR_SIZE // ENTRY_SIZE):
            entries.append(DirEntry("", TYPE_UNUSED))
        directory = bytearray()
        for sid, entry in enumerate(entries):
            if entry.entry_type == TYPE_ROOT:
                start, size = (root_start, len(mini_stream)) if mini_stream else (ENDOFCHAIN, 0)
            elif entry.entry_type == TYPE_STREAM:
                start, size = placement[sid]
            else:
                start, size = 0, 0
            directory += entry.pack(start, size)
        first_dir = allocate(bytes(directory))

        n_fat = 0
        while n_fat * (SECTOR_SIZE // 4) < len(sectors) + n_fat:
            n_fat += 1
        if n_fat > 109:
            raise CfbError("file too large for a header-only DIFAT")
        fat_sector_ids = list(range(len(sectors), len(sectors) + n_fat))
        fat += [FATSECT] * n_fat
        fat += [FREESECT] * (n_fat * (SECTOR_SIZE // 4) - len(fat))
        fat_raw = struct.pack(f"<{len(fat)}I", *fat)

        header = bytearray(SECTOR_SIZE)
        header[0:8] = SIGNATURE
        struct.pack_into(
            "<HHHHH6xIIIIIIIII",
            header,
            24,
            0x003E,
            3,
            0xFFFE,
            9,
            6,
            0,
            n_fat,
            first_dir,
            0,
            MINI_STREAM_CUTOFF,
            first_minifat,
            n_minifat,
            ENDOFCHAIN,
            0,
        )
        difat = fat_sector_ids + [FREESECT] * (109 - n_fat)
        struct.pack_into("<109I", header, 76, *difat)
        return bytes(header) + b"".join(sectors) + fat_raw
