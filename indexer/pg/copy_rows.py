"""COPY a built index's rows into one version's standalone tables (``schema.partition``).

Text and arrays go in COPY's text format; vectors in its binary format, as pgvector's
binary form, so no float is formatted and parsed again.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from indexer.chunking import Passage
from indexer.pg import schema

_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)


def copy_passages(
    conn: psycopg.Connection[Any], version: int, passages: list[Passage], terms: list[list[str]]
) -> None:
    columns = (
        "version, ordinal, id, doc_id, text, path, page_start, page_end, page_estimate,"
        " line_start, line_end, kind, terms, length, line_pages"
    )
    statement = sql.SQL("COPY {p} (" + columns + ") FROM STDIN").format(
        p=schema.partition("passages", version)
    )
    with conn.cursor().copy(statement) as copy:
        for ordinal, (p, passage_terms) in enumerate(zip(passages, terms, strict=True)):
            copy.write_row(
                (version, ordinal, p.id, p.doc_id, p.text, list(p.path), p.page_start, p.page_end,
                 p.page_estimate, p.line_start, p.line_end, p.kind, passage_terms, len(passage_terms) or 1,
                 list(p.line_pages))
            )  # fmt: skip


def copy_terms(conn: psycopg.Connection[Any], version: int, terms: list[list[str]]) -> None:
    df: Counter[str] = Counter()
    statement = sql.SQL("COPY {p} (version, term, ordinal, tf, length) FROM STDIN").format(
        p=schema.partition("postings", version)
    )
    with conn.cursor().copy(statement) as copy:
        for ordinal, passage_terms in enumerate(terms):
            tfs = Counter(passage_terms)
            df.update(tfs.keys())
            length = len(passage_terms) or 1  # as in the passages table
            for term, tf in tfs.items():
                copy.write_row((version, term, ordinal, tf, length))
    statement = sql.SQL("COPY {p} (version, term, df) FROM STDIN").format(
        p=schema.partition("term_stats", version)
    )
    with conn.cursor().copy(statement) as copy:
        for term, n in df.items():
            copy.write_row((version, term, n))


def copy_citations(conn: psycopg.Connection[Any], version: int, citations: dict[str, list[int]]) -> None:
    statement = sql.SQL("COPY {p} (version, key, ordinal) FROM STDIN").format(
        p=schema.partition("citations", version)
    )
    with conn.cursor().copy(statement) as copy:
        for key, ordinals in citations.items():
            for ordinal in ordinals:
                copy.write_row((version, key, ordinal))


def copy_vocabulary(conn: psycopg.Connection[Any], version: int, vocabulary: dict[str, str]) -> None:
    statement = sql.SQL("COPY {p} (version, folded, word) FROM STDIN").format(
        p=schema.partition("vocabulary", version)
    )
    with conn.cursor().copy(statement) as copy:
        for folded, word in vocabulary.items():
            copy.write_row((version, folded, word))


def passage_vector_rows(vectors: np.ndarray, doc_ids: list[str]) -> Iterator[tuple[object, ...]]:
    for ordinal, (vector, doc_id) in enumerate(zip(vectors, doc_ids, strict=True)):
        yield (ordinal, doc_id, vector)


def sentence_rows(vectors: np.ndarray, owner: np.ndarray, doc_ids: list[str]) -> Iterator[tuple[object, ...]]:
    for sentence, (vector, ordinal) in enumerate(zip(vectors, owner.tolist(), strict=True)):
        yield (sentence, ordinal, doc_ids[ordinal], vector)


def copy_vectors(
    conn: psycopg.Connection[Any], version: int, table: str, rows: Iterable[tuple[object, ...]]
) -> None:
    """COPY in binary: vectors go as pgvector's binary form (no float formatting)."""
    columns = "version, ordinal, doc_id, embedding"
    if table == "sentence_vectors":
        columns = "version, sentence, ordinal, doc_id, embedding"
    statement = sql.SQL("COPY {p} (" + columns + ") FROM STDIN (FORMAT BINARY)").format(
        p=schema.partition(table, version)
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(_PGCOPY_HEADER)
        buffer: list[bytes] = []
        for row in rows:
            buffer.append(_binary_row((version, *row)))
            if len(buffer) >= 1024:
                copy.write(b"".join(buffer))
                buffer.clear()
        copy.write(b"".join(buffer) + struct.pack("!h", -1))


def _binary_row(values: tuple[object, ...]) -> bytes:
    """One row in COPY's binary format: bigint version, integers, text, then a vector."""
    out = [struct.pack("!hiq", len(values), 8, values[0])]
    for value in values[1:]:
        if isinstance(value, int):
            out.append(struct.pack("!ii", 4, value))
        elif isinstance(value, str):
            data = value.encode("utf-8")
            out.append(struct.pack("!i", len(data)) + data)
        else:
            vector = np.asarray(value, dtype=">f4")
            out.append(struct.pack("!ihh", 4 + 4 * len(vector), len(vector), 0) + vector.tobytes())
    return b"".join(out)
