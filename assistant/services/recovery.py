"""Start-up housekeeping: answers left open by a crash are closed with a reason."""

from django.utils import timezone

from assistant.models import Message


def messages_close_interrupted() -> int:
    """Mark answers that were streaming when the server stopped as failed (content kept)."""
    return Message.objects.filter(status__in=[Message.Status.STREAMING]).update(
        status=Message.Status.ERROR,
        error="The server restarted while this answer was being written.",
        finished_at=timezone.now(),
    )
