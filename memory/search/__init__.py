"""Memory search: the one retriever entry point (chat, memory page and benchmarks use it).

- `retriever.memory_search` ranks one owner's memories for a query (hybrid SQL + fusion);
- `fusion` combines the signals, `sql` and `fulltext` hold the queries, `timeparse` reads
  the time windows a question names.
"""

from memory.search.fusion import BACKGROUND_SIGNALS
from memory.search.retriever import RetrievedMemory, memory_search

__all__ = ["BACKGROUND_SIGNALS", "RetrievedMemory", "memory_search"]
