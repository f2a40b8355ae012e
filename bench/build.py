"""``python -m bench.build``: how long building the index takes, per stage, and its peak memory.

Copies the corpus and the embedding cache to a scratch folder and builds there (the real
index is not touched), each build in its own process: a full build (``--cold``: with an
empty embedding cache, which takes minutes; otherwise with the current cache), a rebuild
with nothing changed, and a rebuild after one section's text changed. The reference is
the first build: each rebuild prints its time as a ratio to it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from indexer.settings import get_settings

STAGES = ("chunking", "analysis", "model", "passage_vectors", "sentence_vectors", "artifacts")


def change_one_section(text: str) -> str:
    """The report with one sentence added to the paragraph that mentions Mavi Bayrak first.

    >>> change_one_section("a\\nMavi Bayraklı plaj 65.\\nb").splitlines()[1]
    'Mavi Bayraklı plaj 65. Bu cümle ölçüm için eklendi.'
    """
    match = re.search(r"^.*Mavi Bayrak.*$", text, flags=re.MULTILINE)
    if match is None:
        raise SystemExit("no line mentions Mavi Bayrak: is this the İzmir report?")
    return text[: match.end()] + " Bu cümle ölçüm için eklendi." + text[match.end() :]


def build_once(env: dict[str, str]) -> tuple[dict[str, object], float, float]:
    """One ``python -m indexer build`` in a child process: its summary, wall seconds and
    peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer", "build", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode}): run `python -m indexer build` to see why")
    summary = json.loads(out.strip().splitlines()[-1])
    return summary, time.perf_counter() - started, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.build", description=__doc__)
    parser.add_argument("--cold", action="store_true", help="start from an empty embedding cache")
    args = parser.parse_args(argv)

    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        root = Path(tmp)
        corpus, cache = root / "corpus", root / "cache"
        shutil.copytree(settings.corpus_dir, corpus)
        if not args.cold and settings.cache_dir.exists():
            shutil.copytree(settings.cache_dir, cache)
        env = os.environ | {
            "RAPOR_CORPUS_DIR": str(corpus),
            "RAPOR_INDEX_DIR": str(root / "index"),
            "RAPOR_CACHE_DIR": str(cache),
        }
        print(f"{'build':<22} {'wall s':>7} {'ratio':>6} {'peak MB':>8} {'embedded':>9}  " + " ".join(STAGES))
        reference = 0.0
        for name in ("cold" if args.cold else "full (cache warm)", "nothing changed", "one section changed"):
            if name == "one section changed":
                report = next(corpus.glob("*.txt"))
                report.write_text(change_one_section(report.read_text(encoding="utf-8")), encoding="utf-8")
            summary, wall, peak = build_once(env)
            reference = reference or wall
            stages = summary.get("stage_seconds", {})
            assert isinstance(stages, dict)
            embedded = f"{summary['embedded']}+{summary['embedded_units']}"
            print(
                f"{name:<22} {wall:>7.1f} {wall / reference:>6.2f} {peak:>8.0f} {embedded:>9}  "
                + " ".join(f"{stages.get(s, 0):.2f}" for s in STAGES)
            )
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
