"""Documents from drives: a downloaded file turned into text, and text into chunks.

No database here, apart from `models.py` (the Document and DocumentChunk rows, registered
in the connectors app, written by connectors/services/). `extract.extract_text` reads a
file on disk (pdf/docx/odt in a separate, time-limited worker process), `chunking.chunk_text`
cuts the text by structure into embedding-sized chunks with character spans, and
`download.temporary_download` streams a download to disk under a size limit.

This package's own __init__ imports nothing: the worker process (`python -m
connectors.documents.worker`) starts without Django.
"""
