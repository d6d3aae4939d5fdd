"""Deactivating a user: no sign-in and no open session from that moment on."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone


def user_sessions_end(*, user) -> int:
    """Delete every stored session signed in as `user`; returns how many.

    Sessions live in the database (Django's default SESSION_ENGINE) and are stored encoded, so
    each live one is decoded to find its user. A session that slipped past this (created in
    the same instant) still dies on its next request: Django's ModelBackend.get_user refuses
    an inactive user.
    """
    ended = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk)
    ]
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def user_deactivate(*, user) -> int:
    """Mark `user` inactive and end all their sessions at once; returns the sessions ended.

    Every team resource is reached through a signed-in session, so this also ends their access
    to those. Their data stays (an admin may reactivate them).
    """
    with transaction.atomic():
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        return user_sessions_end(user=user)
