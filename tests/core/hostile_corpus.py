"""Builders of hostile files for the tests: compression bombs with lying headers, pictures whose header
promises 144 Mpx, MNIST headers that lie, zips of many members. Everything is made in the test that
uses it, small on disk (a few hundred KB at most), and fast to make: a long run of zeros is compressed
once per MiB and the compressed MiB repeated (after a full flush deflate keeps no history, so the
repeated blocks decompress to the same MiB each time).
"""
from __future__ import annotations

import binascii
import bz2
import gzip
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20


def deflate_zeros(size: int, *, raw: bool = True) -> tuple[bytes, int]:
    """``size`` zero bytes deflated (``raw``: no zlib header, as in a zip; else a zlib stream) and the
    CRC-32 of the zeros (or, for a zlib stream, it already ends with its Adler-32)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(size, MIB)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = block * whole + tail.compress(bytes(rest)) + tail.flush()
    crc = 0
    adler = 1
    one = bytes(MIB)
    for _ in range(whole):
        crc = zlib.crc32(one, crc)
        adler = zlib.adler32(one, adler)
    crc = zlib.crc32(bytes(rest), crc)
    adler = zlib.adler32(bytes(rest), adler)
    if raw:
        return body, crc
    return b"\x78\xda" + body + struct.pack(">I", adler), crc


def gzip_bytes_then_zeros(head: bytes, zeros: int) -> bytes:
    """A gzip file holding ``head`` followed by ``zeros`` zero bytes (a few KB per 1,000 MiB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    body, crc_zeros = deflate_zeros(zeros)
    crc = zlib.crc32(head)
    one = bytes(MIB)
    whole, rest = divmod(zeros, MIB)
    for _ in range(whole):
        crc = zlib.crc32(one, crc)
    crc = zlib.crc32(bytes(rest), crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + first + body + struct.pack("<II", crc, (len(head) + zeros) & 0xFFFFFFFF)


@dataclass(frozen=True)
class Member:
    """One zip member as written: its name, compression method, compressed bytes, and the CRC and
    uncompressed size its headers declare (which may lie)."""

    name: str
    method: int
    data: bytes
    crc: int
    size: int


def stored(name: str, data: bytes) -> Member:
    return Member(name, zipfile.ZIP_STORED, data, zlib.crc32(data), len(data))


def deflated(name: str, data: bytes) -> Member:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Member(name, zipfile.ZIP_DEFLATED, compressor.compress(data) + compressor.flush(),
                  zlib.crc32(data), len(data))


def bzip2_bomb(name: str, prefix: bytes, zeros: int, declared: int) -> Member:
    """A bzip2 member: ``prefix`` then ``zeros`` zero bytes, declaring ``declared`` bytes."""
    compressor = bz2.BZ2Compressor(9)
    parts = [compressor.compress(prefix)]
    for start in range(0, zeros, MIB):
        parts.append(compressor.compress(bytes(min(MIB, zeros - start))))
    parts.append(compressor.flush())
    return Member(name, zipfile.ZIP_BZIP2, b"".join(parts), 0, declared)


def write_zip(path: Path, members: list[Member]) -> Path:
    """A zip archive written byte by byte, so that headers can say what the test wants."""
    out = bytearray()
    central = bytearray()
    for member in members:
        name = member.name.encode("utf-8")
        offset = len(out)
        fields = (20, 0, member.method, 0, 0x21, member.crc & 0xFFFFFFFF, len(member.data),
                  member.size & 0xFFFFFFFF, len(name))
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields, 0) + name + member.data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0,
                               offset) + name
    count = len(members)
    zip64 = b""
    if count > 0xFFFE:  # the count does not fit the end record: a zip64 end record and its locator
        record_at = len(out) + len(central)
        zip64 = (struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central),
                             len(out))
                 + struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1))
        count = 0xFFFF
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    path.write_bytes(bytes(out + central + zip64 + end))
    return path


def png_header_only(width: int, height: int) -> bytes:
    """A valid grey 8-bit PNG of ``width`` x ``height`` black pixels, made without ever holding them:
    its IDAT is the repeated compressed MiB of ``deflate_zeros`` (a 144 Mpx picture is ~150 KB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", binascii.crc32(kind + data))
    # Every row is a filter byte 0 then `width` zero bytes: all zeros.
    idat, _ = deflate_zeros(height * (width + 1), raw=False)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def idx_images_header(count: int) -> bytes:
    return struct.pack(">IIII", 2051, count, 28, 28)


def idx_labels(labels: bytes) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels


def mnist_gzip_bomb(folder: Path, count: int) -> Path:
    """``t10k-*`` files declaring ``count`` blank images (honestly: the gzip holds them all)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip_bytes_then_zeros(idx_images_header(count),
                                                                             count * 28 * 28))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_labels(bytes(count))))
    return folder
