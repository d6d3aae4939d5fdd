"""An upload handler that refuses a memory import over MEMORY_IMPORT_MAX_BYTES as it
arrives: a declared size over the limit is refused before any byte is read, and a body
that turns out bigger (no or a false Content-Length) stops at the limit. Nothing past
the limit is written to memory or to a temporary file."""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict


class ImportSizeLimit(FileUploadHandler):
    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.refused_bytes = 0  # the size that was refused (declared, or read so far)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit:
            self.refused_bytes = content_length
            # Parsed as empty: the body is never read.
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused_bytes = self.received
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
