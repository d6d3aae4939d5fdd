"""One passage of a file, as a chip under an answer previews it: the chunk, the text
just before and after it (from its neighbours, without the overlap), and the file's link."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from connectors.documents.models import DocumentChunk


@dataclass(frozen=True)
class Passage:
    chunk: DocumentChunk  # with its document loaded
    before: str  # the previous chunk's text up to where this one starts
    after: str  # the next chunk's text from where this one ends
    link: str  # the file's web address, only when it is http(s); else ""


def _safe_link(url: str) -> str:
    """Only web addresses become links: a drive could store javascript: or file: ones."""
    url = (url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else ""


def passage_get_for_user(*, user, pk: int) -> Passage:
    """An owner's passage, or 404 (another user's chunk id reveals nothing)."""
    chunk = get_object_or_404(
        DocumentChunk.objects.owned_by(user).select_related("document"), pk=pk
    )
    neighbours = {
        other.ordinal: other
        for other in DocumentChunk.objects.owned_by(user).filter(
            document_id=chunk.document_id, ordinal__in=[chunk.ordinal - 1, chunk.ordinal + 1]
        )
    }
    before = after = ""
    if previous := neighbours.get(chunk.ordinal - 1):
        # Chunks may overlap: keep only what comes before this one starts.
        before = previous.text[: max(0, chunk.start - previous.start)]
    if following := neighbours.get(chunk.ordinal + 1):
        after = following.text[max(0, chunk.end - following.start) :]
    return Passage(chunk=chunk, before=before, after=after, link=_safe_link(chunk.document.web_url))
