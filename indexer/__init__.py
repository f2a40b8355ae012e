"""Report indexing: analysis, structure, chunking, BM25 + dense index, search."""

from indexer.analysis import Analyzer
from indexer.chunking import Passage
from indexer.settings import Settings

__all__ = ["Analyzer", "Passage", "Settings"]
