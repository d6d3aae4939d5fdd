"""Invitations: made by link or email, accepted once, refused when expired, reused, revoked
or forged (each with its own words, nothing changed), and one winner of two accepts."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.utils import timezone

from assistant.teams.audit_models import AuditEvent
from assistant.teams.invitations import (
    InvitationError,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    token_hash,
)
from assistant.teams.models import Invitation, Membership, Role
from assistant.teams.services import TeamError, team_settings_update
from tests.assistant.teams.personas import issue, person

pytestmark = pytest.mark.django_db


def test_only_the_hash_of_the_token_is_stored(people):
    invitation, token = issue(people.team, people.owner)
    assert len(token) >= 40 and invitation.token_hash == token_hash(token)
    assert not Invitation.objects.filter(token_hash=token).exists()
    event = AuditEvent.objects.get(action="invitation.created", target_id=str(invitation.pk))
    assert token not in str(event.detail) and event.detail == {"role": "member", "email": ""}


def test_accepting_joins_with_the_invited_role(people):
    newcomer = person("nia")
    invitation, token = issue(people.team, people.admin, Role.ADMIN)
    membership = invitation_accept(user=newcomer, token=token, ip="10.1.1.1")
    assert (membership.team, membership.role) == (people.team, "admin")
    invitation.refresh_from_db()
    assert invitation.used_by == newcomer and invitation.used_at is not None
    event = AuditEvent.objects.get(action="member.joined", actor_id=newcomer.pk)
    assert event.detail == {"role": "admin"} and event.ip == "10.1.1.1"


def _refused(user, token, words):
    members, events = Membership.objects.count(), AuditEvent.objects.count()
    with pytest.raises(InvitationError, match=words):
        invitation_accept(user=user, token=token)
    assert (Membership.objects.count(), AuditEvent.objects.count()) == (members, events)


def test_a_reused_link_is_refused(people):
    _, token = issue(people.team, people.owner)
    invitation_accept(user=person("nia"), token=token)
    _refused(person("ned"), token, "already been used")


def test_an_expired_link_is_refused(people):
    invitation, token = issue(people.team, people.owner)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    _refused(person("nia"), token, "expired")
    assert Invitation.objects.get(pk=invitation.pk).used_at is None


def test_a_revoked_link_is_refused(people):
    invitation, token = issue(people.team, people.owner)
    invitation_revoke(actor=people.admin, team=people.team, invitation=invitation)
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1
    _refused(person("nia"), token, "withdrawn")
    with pytest.raises(TeamError):  # twice: nothing more to withdraw
        invitation_revoke(actor=people.admin, team=people.team, invitation=invitation)


@pytest.mark.parametrize("token", ["", "not-a-token", "A" * 43, "../../admin"])
def test_a_forged_link_is_refused(people, token):
    issue(people.team, people.owner)
    with pytest.raises(InvitationError, match="not valid") as caught:
        invitation_accept(user=person("nia"), token=token)
    assert caught.value.status == 404
    assert not Membership.objects.filter(user__username="nia").exists()


def test_a_member_accepting_keeps_their_role_and_the_link_stays_unused(people):
    invitation, token = issue(people.team, people.owner, Role.ADMIN)
    _refused(people.member, token, "already a member")
    assert Membership.objects.get(team=people.team, user=people.member).role == "member"
    assert Invitation.objects.get(pk=invitation.pk).used_at is None


def test_who_may_invite(people):
    with pytest.raises(PermissionDenied):  # members, unless the team allows it
        issue(people.team, people.member)
    with pytest.raises(PermissionDenied):
        issue(people.team, people.outsider)
    team_settings_update(actor=people.owner, team=people.team, members_may_invite=True)
    people.team.refresh_from_db()
    issue(people.team, people.member)  # now as member...
    with pytest.raises(PermissionDenied):  # ...but never as admin
        issue(people.team, people.member, Role.ADMIN)
    with pytest.raises(TeamError):  # ownership is never given by invitation
        issue(people.team, people.owner, Role.OWNER)


def test_a_member_withdraws_only_their_own_invitations(people):
    team_settings_update(actor=people.owner, team=people.team, members_may_invite=True)
    admins, _ = issue(people.team, people.admin)
    with pytest.raises(PermissionDenied):
        invitation_revoke(actor=people.member, team=people.team, invitation=admins)
    theirs, _ = issue(people.team, people.member)
    invitation_revoke(actor=people.member, team=people.team, invitation=theirs)
    assert Invitation.objects.get(pk=admins.pk).revoked_at is None


def test_an_email_invitation_is_sent_with_the_link(people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    issued = invitation_create(
        actor=people.owner, team=people.team, email="nia@example.org",
        link_for=lambda token: f"https://recall.example.org/teams/join/{token}",
    )  # fmt: skip
    assert issued.email_error == ""
    (sent,) = mail.outbox
    assert sent.to == ["nia@example.org"] and "Lighthouse" in sent.subject
    assert issued.link in sent.body
    assert Invitation.objects.get(pk=issued.invitation.pk).email == "nia@example.org"


def test_a_failed_email_keeps_the_invitation_and_says_so(people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    issued = invitation_create(
        actor=people.owner, team=people.team, email="nia@example.org", link_for=str
    )
    assert "could not be sent" in issued.email_error
    assert Invitation.objects.filter(pk=issued.invitation.pk, revoked_at=None).exists()


def test_a_bad_email_address_is_refused(people):
    before = Invitation.objects.count()
    with pytest.raises(TeamError, match="not valid"):
        invitation_create(actor=people.owner, team=people.team, email="nope@", link_for=str)
    assert Invitation.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_two_people_accepting_one_link_at_once_make_one_member(people):
    """Both pass every read-only check, then meet at the conditional UPDATE: the row is held
    locked here until both wait on it, so the race really happens."""
    invitation, token = issue(people.team, people.owner)
    racers = [person("nia"), person("ned")]
    results: dict[str, str] = {}
    # A fresh connection pool: threads of earlier tests that ended without handing their
    # connection back must not leave these two waiting for one (the pool's timeout).
    connections.close_all()
    connection.close_pool()

    def accept(user):
        try:
            invitation_accept(user=user, token=token)
            results[user.username] = "joined"
        except InvitationError as error:
            results[user.username] = str(error)
        except Exception as error:  # shown by the assertion below, not lost in the thread
            results[user.username] = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()

    with transaction.atomic():
        Invitation.objects.select_for_update().get(pk=invitation.pk)
        threads = [threading.Thread(target=accept, args=(u,)) for u in racers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60  # generous: a loaded CI host starts threads slowly
        while _waiting_on_locks() < 2:
            finished = [thread for thread in threads if not thread.is_alive()]
            assert not finished, f"an accept ended before the UPDATE: {results}"
            assert time.monotonic() < deadline, f"the accepts never reached the UPDATE: {results}"
            time.sleep(0.05)
    for thread in threads:
        thread.join(20)
    assert sorted(results.values()) == [
        "This invitation has already been used. Ask for a new one.",
        "joined",
    ]
    joined = Membership.objects.filter(team=people.team, user__in=racers)
    assert joined.count() == 1
    assert Invitation.objects.get(pk=invitation.pk).used_by == joined.get().user
    joins = AuditEvent.objects.filter(action="member.joined", actor_id__in=[u.pk for u in racers])
    assert joins.count() == 1


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]
