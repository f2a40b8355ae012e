"""Run queries through the engine in process, or through a service over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tqdm import tqdm

from eval.sets import Query
from indexer.ranking import Engine

# A searcher returns (passage id, passage text) pairs, best first.
Searcher = Callable[[str, int, str], list[tuple[str, str]]]
Run = dict[str, dict[str, float]]
DEPTH = 20  # results fetched per query: the metrics look at 10, the recall curve at 20


def in_process(engine: Engine) -> Searcher:
    """Search a loaded engine (either backend) directly."""

    def search(query: str, k: int, mode: str) -> list[tuple[str, str]]:
        result = engine.search(query, k, mode)  # type: ignore[arg-type]
        return [(h.passage.id, h.passage.text) for h in result.hits]

    return search


def over_http(url: str, timeout: float = 60.0) -> Searcher:
    """Search a running service through its public API, as an outside script would."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def search(query: str, k: int, mode: str) -> list[tuple[str, str]]:
        response = client.get("/search", params={"q": query, "k": k, "mode": mode})
        response.raise_for_status()
        return [(r["id"], r["text"]) for r in response.json()["results"]]

    return search


def run_queries(
    search: Searcher, queries: Sequence[Query], mode: str, label: str = "", progress: bool = True
) -> Run:
    """Ranked passage ids per query, scored 1/rank so any tool sorts them as we did."""
    run: Run = {}
    desc = f"{label or mode:>16}"
    for q in tqdm(queries, desc=desc, unit="q", disable=not progress, leave=False):
        hits = search(q.text, DEPTH, mode)
        run[q.id] = {pid: 1.0 / rank for rank, (pid, _) in enumerate(hits, start=1)}
    return run
