"""Memory search: the one retriever entry point (chat, memory page and benchmarks use it).

- `retriever.memory_search` ranks one owner's memories for a query (hybrid SQL + fusion);
- `hybrid.hybrid_search` runs the same candidate lists and fusion over another `Corpus`
  (connectors' document chunks);
- `fusion` combines the signals, `sql` and `fulltext` hold the queries, `timeparse` reads
  the time windows a question names.
"""

from memory.search.fusion import BACKGROUND_SIGNALS
from memory.search.hybrid import Ranked, hybrid_search
from memory.search.retriever import RetrievedMemory, memory_search
from memory.search.sql import Corpus

__all__ = [
    "BACKGROUND_SIGNALS",
    "Corpus",
    "Ranked",
    "RetrievedMemory",
    "hybrid_search",
    "memory_search",
]
