"""Writes for conversations and messages (keyword-only, named <noun>_<verb>)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant.models import Conversation, Message
from assistant.profiles import allowed_profiles, normalise_profile, profile_for_team
from assistant.services.recovery import answers_close_stale, stale_streaming_q
from assistant.teams.models import Team
from memory.models import MemoryItem
from memory.services.forget import memories_forget_permanently

TITLE_CHARS = 60


def conversation_create(
    *, owner, profile: str | None = None, incognito: bool = False, team=None
) -> Conversation:
    """A new conversation; `team`: the owner's active team (already checked), whose
    memory and sources its turns read beside the owner's. In a team, the profile must be
    one the team allows (ValidationError otherwise; none given: the team's default)."""
    chosen = profile_for_team(profile, team) if team is not None else normalise_profile(profile)
    return Conversation.objects.create(owner=owner, profile=chosen, incognito=incognito, team=team)


def _team_of(conversation: Conversation):
    """The conversation's team read afresh (its allowed profiles may have just changed)."""
    if conversation.team_id is None:
        return None
    return Team.objects.filter(pk=conversation.team_id).first()


def conversation_update(
    *, conversation: Conversation, title: str | None = None, profile: str | None = None
) -> Conversation:
    """Rename, or switch the profile (in a team: only to one it allows, else
    ValidationError and nothing changes)."""
    if profile is not None:
        team = _team_of(conversation)
        profile = profile_for_team(profile, team) if team else normalise_profile(profile)
    if title is not None:
        conversation.title = title.strip()[:200]
    if profile is not None:
        conversation.profile = profile
    conversation.save(update_fields=["title", "profile", "updated_at"])
    return conversation


def _profile_enforce(*, conversation: Conversation) -> None:
    """A team that narrowed its allowed profiles after this chat began: the next answer
    uses the first profile it still allows (the chat's profile is switched to it)."""
    team = _team_of(conversation)
    if team is None:
        return
    allowed = allowed_profiles(team)
    if conversation.profile not in allowed:
        conversation.profile = allowed[0]
        conversation.save(update_fields=["profile", "updated_at"])


@transaction.atomic
def conversation_delete(
    *, conversation: Conversation, changed_by=None, actor: str = "user"
) -> None:
    """Delete a conversation and forget its summaries for good (text, vector and revisions
    erased; copies in other answers' records scrubbed). Memories extracted from it stay:
    they were reviewed (or accepted) as memories of their own. `actor`: "system" when
    a retention period deletes it."""
    summaries = list(MemoryItem.objects.filter(session_summary__conversation=conversation))
    memories_forget_permanently(items=summaries, actor=actor, changed_by=changed_by)
    conversation.delete()


def validate_message_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError("Type a message first.", code="empty")
    if len(text) > settings.MAX_MESSAGE_CHARS:
        raise ValidationError(
            f"That message is {len(text):,} characters; the limit is "
            f"{settings.MAX_MESSAGE_CHARS:,}. Shorten it or split it into parts.",
            code="too_long",
        )
    return text


def _title_from(text: str) -> str:
    first_line = text.strip().splitlines()[0]
    return first_line if len(first_line) <= TITLE_CHARS else first_line[: TITLE_CHARS - 1] + "…"


BUSY = "An answer is still being written here: wait for it to finish or stop it."
OPEN_STATUSES = (Message.Status.PENDING, Message.Status.STREAMING)


def _owner_lock(*, conversation: Conversation) -> None:
    """Serialise answer starts per user (row lock until the transaction ends), so the
    checks below and the insert that follows them cannot interleave."""
    get_user_model().objects.select_for_update().filter(pk=conversation.owner_id).exists()


def _answer_slot_take(*, conversation: Conversation) -> None:
    """Check, under the owner's lock, that a new answer may start: none open in this
    conversation (two quick clicks make one answer) and fewer than
    CHAT_MAX_CONCURRENT_STREAMS open for the user. Call inside a transaction."""
    _owner_lock(conversation=conversation)
    mine = Message.objects.filter(
        conversation__owner_id=conversation.owner_id,
        role=Message.Role.ASSISTANT,
        status__in=OPEN_STATUSES,
    )
    answers_close_stale(messages=mine)  # a dead stream does not hold a slot
    if mine.filter(conversation=conversation).exists():
        raise ValidationError(BUSY, code="busy")
    limit = settings.CHAT_MAX_CONCURRENT_STREAMS
    if mine.count() >= limit:
        raise ValidationError(
            f"You already have {limit} answers being written, the most at once. Wait for "
            "one to finish or stop one, then try again.",
            code="too_many",
        )


def _answer_create(*, conversation: Conversation, continues_previous: bool = False) -> Message:
    try:
        with transaction.atomic():  # savepoint: the constraint is the last line of defence
            return Message.objects.create(
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                status=Message.Status.PENDING,
                profile=conversation.profile,
                continues_previous=continues_previous,
            )
    except IntegrityError:
        raise ValidationError(BUSY, code="busy") from None


@transaction.atomic
def message_send(*, conversation: Conversation, text: str) -> tuple[Message, Message]:
    """Save the user's message and a pending answer together: nothing half-saved."""
    text = validate_message_text(text)
    _answer_slot_take(conversation=conversation)
    _profile_enforce(conversation=conversation)
    user_message = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, content=text
    )
    answer = _answer_create(conversation=conversation)
    if not conversation.title:
        conversation.title = _title_from(text)
    conversation.save(update_fields=["title", "updated_at"])
    return user_message, answer


def _latest_answer_locked(*, answer: Message, verb: str) -> Message:
    """`answer` re-read under the owner's lock; it must still be the latest message.
    One whose stream died (stale) is closed first, so it no longer blocks Regenerate."""
    _owner_lock(conversation=answer.conversation)
    answers_close_stale(messages=answer.conversation.messages.all())
    current = Message.objects.filter(pk=answer.pk).first()
    if current is None:
        raise ValidationError("This answer was already replaced.", code="gone")
    latest = answer.conversation.messages.order_by("-created_at", "-id").first()
    if current.role != Message.Role.ASSISTANT or latest is None or latest.pk != current.pk:
        raise ValidationError(f"Only the latest answer can be {verb}.", code="not_latest")
    if current.is_open:
        raise ValidationError("This answer is still being written.", code="busy")
    current.conversation = answer.conversation
    return current


@transaction.atomic
def message_regenerate(*, answer: Message) -> Message:
    """Replace an answer (finished, failed or stopped) with a fresh pending one.

    Only the latest answer can be regenerated: later turns were built on it."""
    current = _latest_answer_locked(answer=answer, verb="regenerated")
    conversation = current.conversation
    current.delete()
    _answer_slot_take(conversation=conversation)
    _profile_enforce(conversation=conversation)
    conversation.save(update_fields=["updated_at"])
    return _answer_create(conversation=conversation, continues_previous=current.continues_previous)


@transaction.atomic
def message_continue(*, answer: Message) -> Message:
    """Start a new answer that carries on where a length-limited one was cut off."""
    current = _latest_answer_locked(answer=answer, verb="continued")
    if not current.cut_off:
        raise ValidationError("Only an answer cut off at the length limit can be continued.")
    conversation = current.conversation
    _answer_slot_take(conversation=conversation)
    _profile_enforce(conversation=conversation)
    conversation.save(update_fields=["updated_at"])
    return _answer_create(conversation=conversation, continues_previous=True)


def message_request_stop(*, message: Message) -> bool:
    """Ask the stream producing `message` to stop; it keeps the partial answer.

    A streaming answer whose stream died (stale heartbeat) is closed at once."""
    updated = Message.objects.filter(pk=message.pk, status__in=OPEN_STATUSES).update(
        cancel_requested=True
    )
    now = timezone.now()
    Message.objects.filter(pk=message.pk).filter(stale_streaming_q()).update(
        status=Message.Status.CANCELLED,
        error="Stopped. The server had stopped writing this answer.",
        finished_at=now,
    )
    if updated and message.status == Message.Status.PENDING:
        # Nothing is producing it yet: close it now so the user sees it stopped.
        Message.objects.filter(pk=message.pk, status=Message.Status.PENDING).update(
            status=Message.Status.CANCELLED,
            error="Stopped before the model started answering.",
            finished_at=now,
        )
    return bool(updated)
