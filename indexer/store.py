"""The index directory: what a build writes and what the service loads."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from indexer.chunking import Passage

MANIFEST, PASSAGES, TERMS, DENSE = "manifest.json", "passages.jsonl", "terms.json", "dense.faiss"
VOCABULARY, SENTENCES, CITATIONS = "vocabulary.json", "sentences.npz", "citations.json"
ARTIFACTS = (PASSAGES, TERMS, DENSE, VOCABULARY, SENTENCES, CITATIONS)
FORMAT_VERSION = 5


class IndexMissing(RuntimeError):
    """No usable index at the configured path."""


def checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of each artifact in ``folder``, recorded in the manifest at build."""
    return {name: _sha256(folder / name) for name in ARTIFACTS}


def verify(folder: Path, manifest: dict[str, Any]) -> None:
    """Raise IndexMissing, saying what to do, if an artifact is missing or differs from
    what the build wrote (truncated, replaced, from another build)."""
    recorded: dict[str, str] = manifest.get("checksums", {})
    bad = [
        f"{name} {'missing' if not (folder / name).exists() else 'changed since the build'}"
        for name in ARTIFACTS
        if not (folder / name).exists() or recorded.get(name) != _sha256(folder / name)
    ]
    if bad:
        raise IndexMissing(
            f"index at {folder} is damaged ({'; '.join(bad)}): rebuild it with `python -m indexer build`"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def write_passages(folder: Path, passages: list[Passage]) -> None:
    with (folder / PASSAGES).open("w", encoding="utf-8") as f:
        for p in passages:
            f.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")


def read_passages(folder: Path) -> list[Passage]:
    out: list[Passage] = []
    with (folder / PASSAGES).open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            row["path"] = tuple(row["path"])
            row["line_pages"] = tuple(row.get("line_pages", ()))
            out.append(Passage(**row))
    return out


def write_dense(folder: Path, vectors: np.ndarray) -> None:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(folder / DENSE))


def read_dense(folder: Path) -> Any:
    import faiss

    return faiss.read_index(str(folder / DENSE))


def write_sentences(folder: Path, vectors: np.ndarray, starts: np.ndarray) -> None:
    np.savez(folder / SENTENCES, vectors=vectors.astype(np.float32), starts=starts.astype(np.int64))


def read_sentences(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors and, per passage, the index of its first sentence."""
    with np.load(folder / SENTENCES) as data:
        return data["vectors"], data["starts"]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a complete index, or None if there is none."""
    try:
        data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if data.get("format") == FORMAT_VERSION else None


@contextmanager
def build_lock(target: Path) -> Iterator[None]:
    """One build at a time per index folder; a second one waits for the first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.with_name(f".{target.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by the finished ``staging`` directory with renames only."""
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    if old.exists():
        shutil.rmtree(old)
