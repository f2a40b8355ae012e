"""Hot reload: a rebuilt index replaces the served one without a failed search.

A build writes a staging folder and swaps it in by renames, so a complete index appears
at once. The service keeps serving the engine it loaded; the watcher notices a new
manifest, loads the new index beside the old one (sharing the query encoder), and only
then points new searches at it. Searches already running finish on the old engine. A new
index that cannot be served (damaged, another model, other analysis settings) is logged
and the old one kept, so results never come from an inconsistent index.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from anyio import to_thread
from starlette.datastructures import State

from indexer import store
from indexer.build import mismatch
from indexer.search import SearchEngine
from indexer.settings import Settings

log = logging.getLogger(__name__)
_ATTEMPTS = 3  # loads of one manifest failing with an unexpected error before it is refused


class IndexWatcher:
    """Swaps ``state.engine`` for the index at ``settings.index_dir`` whenever it changes."""

    def __init__(self, state: State, settings: Settings) -> None:
        self.state = state
        self.settings = settings
        self.refused: dict[str, Any] | None = None  # a manifest already refused: not retried
        self.failures = 0  # loads of the same manifest that raised (perhaps passing: EMFILE)
        self.unreadable: float | None = None  # mtime of a manifest already said unreadable

    async def watch(self) -> None:
        """Check every ``reload_interval`` seconds until cancelled."""
        while True:
            await anyio.sleep(self.settings.reload_interval)
            try:
                await self.check()
            except Exception:  # the watcher must outlive any one failed load
                log.exception("checking for a rebuilt index failed; still serving the loaded one")

    async def check(self) -> bool:
        """Load and serve a rebuilt index if there is one; whether the engine changed."""
        engine: SearchEngine = self.state.engine
        manifest = store.read_manifest(self.settings.index_dir)
        if manifest is None:
            self._say_unreadable()
            return False  # mid-swap (the folder is renamed away for a moment), or unreadable
        if manifest == engine.manifest or manifest == self.refused:
            return False  # unchanged, or known bad
        new = await to_thread.run_sync(self._load, engine, manifest)
        if new is None:
            return False
        self.state.engine = new
        log.info("serving the rebuilt index (%d passages, built %s)", len(new), new.manifest.get("built_at"))
        return True

    def _load(self, old: SearchEngine, manifest: dict[str, Any]) -> SearchEngine | None:
        problem: str | Exception | None = mismatch(self.settings, manifest, old.embedder.model_id)
        new: SearchEngine | None = None
        if problem is None:
            try:
                new = SearchEngine(self.settings, old.embedder)
            except store.IndexMissing as exc:  # damaged: keep serving the old index
                problem = str(exc)
            except Exception as exc:  # perhaps passing (no memory, no file handles): retried
                problem = exc
        # Another build may have swapped in while this one loaded: serve only an index
        # whose manifest did not change under us (the next check loads the newer one).
        if store.read_manifest(self.settings.index_dir) != manifest:
            return None
        if new is not None and new.manifest == manifest:
            self.failures = 0
            return new
        self.failures += 1
        if problem is None or isinstance(problem, str) or self.failures >= _ATTEMPTS:
            # A mismatch or damage stays until the next build: say so once, not every check.
            self.refused, self.failures = manifest, 0
        log.error("not serving the rebuilt index (%s); still serving the loaded one", problem)
        return None

    def _say_unreadable(self) -> None:
        """Log once per manifest that is there but unreadable or of another index format."""
        path = self.settings.index_dir / store.MANIFEST
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return  # no manifest: a build is swapping its folder in
        if mtime != self.unreadable:
            self.unreadable = mtime
            log.error(
                "not serving the index at %s: its manifest is unreadable or of another format; "
                "rebuild it with `python -m indexer build`",
                self.settings.index_dir,
            )
