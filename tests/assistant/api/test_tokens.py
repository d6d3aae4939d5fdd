"""The token service (assistant/api/tokens.py): hashed at rest, found by prefix, refused at
once when wrong, revoked, expired or its user deactivated; last use noted; the team scope
only while its user is a member; every make and revoke in the audit log."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from assistant.api.models import ApiToken
from assistant.api.tokens import (
    LAST_USED_EVERY,
    TokenError,
    token_authenticate,
    token_create,
    token_revoke,
    tokens_of_team,
    tokens_revocable_by,
)
from assistant.teams.audit_models import AuditAction, AuditEvent
from assistant.teams.models import Role
from assistant.teams.services import team_create, team_leave
from tests.assistant.teams.personas import join, person

pytestmark = pytest.mark.django_db

READ = [ApiToken.Scope.MEMORY_READ]


def _refused(raw: str) -> TokenError:
    with pytest.raises(TokenError) as caught:
        token_authenticate(raw=raw)
    return caught.value


def test_only_the_hash_is_stored_and_the_prefix_finds_the_row():
    ana = person("ana")
    token, raw = token_create(user=ana, name="laptop", scopes=READ)
    assert raw.startswith(f"rk_{token.prefix}_") and len(raw) > 40
    secret = raw.rsplit("_", 1)[1]
    assert token.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    # The raw token (or its secret part) is nowhere in the stored row, column by column.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table} WHERE id = %s", [token.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert raw not in row and secret not in row and secret[:12] not in row
    principal = token_authenticate(raw=raw)
    assert principal.token.pk == token.pk and principal.user == ana and principal.team is None


def test_the_right_prefix_with_a_wrong_secret_is_refused():
    token, raw = token_create(user=person("ana"), name="laptop", scopes=READ)
    wrong = f"rk_{token.prefix}_{'x' * 43}"
    error = _refused(wrong)
    assert (error.status, error.code) == (401, "invalid_token")
    # One character changed at the end: refused too.
    assert _refused(raw[:-1] + ("A" if raw[-1] != "A" else "B")).status == 401


@pytest.mark.parametrize(
    "raw", ["", "Bearer", "rk_", "sk-abc", "rk_nosuch_secret", "rk_onlyprefix"]
)
def test_missing_or_malformed_tokens_are_refused(raw):
    assert _refused(raw).status == 401


def test_a_revoked_token_fails_at_once():
    ana = person("ana")
    token, raw = token_create(user=ana, name="laptop", scopes=READ)
    token_authenticate(raw=raw)
    assert token_revoke(token=token, by=ana) is True
    error = _refused(raw)
    assert (error.status, error.code) == (401, "revoked_token")
    assert token_revoke(token=token, by=ana) is False  # idempotent, recorded once
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).count() == 1


def test_an_expired_token_fails():
    token, raw = token_create(
        user=person("ana"), name="ci", scopes=READ, expires_at=timezone.now() + timedelta(days=1)
    )
    token_authenticate(raw=raw)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    error = _refused(raw)
    assert (error.status, error.code) == (401, "expired_token")


def test_an_expiry_in_the_past_is_refused_when_made():
    with pytest.raises(ValueError):
        token_create(user=person("ana"), name="ci", scopes=READ, expires_at=timezone.now())


def test_the_sites_longest_lifetime_is_kept(settings):
    settings.API_TOKEN_MAX_DAYS = 30
    ana = person("ana")
    with pytest.raises(ValueError, match="must expire"):
        token_create(user=ana, name="forever", scopes=READ)
    with pytest.raises(ValueError, match="at most 30 days"):
        token_create(user=ana, name="long", scopes=READ, expires_at=timezone.now() + timedelta(40))
    token_create(user=ana, name="ok", scopes=READ, expires_at=timezone.now() + timedelta(30))
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["ok"]


def test_a_deactivated_users_token_fails():
    ana = person("ana")
    _, raw = token_create(user=ana, name="laptop", scopes=READ)
    ana.is_active = False
    ana.save(update_fields=["is_active"])
    error = _refused(raw)
    assert (error.status, error.code) == (401, "inactive_user")


def test_last_used_is_written_at_most_once_a_minute():
    token, raw = token_create(user=person("ana"), name="laptop", scopes=READ)
    assert token.last_used_at is None
    token_authenticate(raw=raw)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=10)
    token_authenticate(raw=raw)
    token.refresh_from_db()
    assert token.last_used_at == first
    earlier = first - LAST_USED_EVERY - timedelta(seconds=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    token_authenticate(raw=raw)
    token.refresh_from_db()
    assert token.last_used_at > earlier


def test_bad_names_and_scopes_are_refused():
    ana = person("ana")
    with pytest.raises(ValueError):
        token_create(user=ana, name="  ", scopes=READ)
    with pytest.raises(ValueError):
        token_create(user=ana, name="x", scopes=[])
    with pytest.raises(ValueError):
        token_create(user=ana, name="x", scopes=["memory:everything"])
    assert not ApiToken.objects.exists()


def test_scopes_and_what_they_imply():
    ana = person("ana")
    _, raw = token_create(user=ana, name="mcp", scopes=[ApiToken.Scope.MEMORY_WRITE_DIRECT])
    principal = token_authenticate(raw=raw)
    assert principal.has(ApiToken.Scope.MEMORY_WRITE) and principal.has("memory:write:direct")
    assert not principal.has(ApiToken.Scope.CHAT)
    with pytest.raises(TokenError) as caught:
        principal.require(ApiToken.Scope.CHAT)
    assert (caught.value.status, caught.value.code) == (403, "insufficient_scope")
    _, raw = token_create(user=ana, name="review", scopes=[ApiToken.Scope.MEMORY_WRITE])
    assert not token_authenticate(raw=raw).has(ApiToken.Scope.MEMORY_WRITE_DIRECT)


def test_the_team_scope_lasts_while_the_user_is_a_member():
    owner, member = person("tess"), person("max")
    team = team_create(actor=owner, name="Lighthouse")
    join(team, owner, member)
    token, raw = token_create(user=member, name="editor", scopes=READ, team=team)
    principal = token_authenticate(raw=raw)
    assert principal.team == team and principal.shared_owner_ids == (team.account_id,)
    team_leave(actor=member, team=team)
    principal = token_authenticate(raw=raw)
    assert principal.team is None and principal.shared_owner_ids == ()
    assert principal.user == member  # the personal reach stays
    assert tokens_of_team(team=team).get(pk=token.pk).user_is_member is False


def test_a_team_scope_needs_a_membership():
    owner = person("tess")
    team = team_create(actor=owner, name="Lighthouse")
    with pytest.raises(ValueError):
        token_create(user=person("otto"), name="sneaky", scopes=READ, team=team)
    assert not ApiToken.objects.exists()


def test_team_admins_may_revoke_tokens_reaching_their_team_only():
    owner, admin, member = person("tess"), person("ada"), person("max")
    team = team_create(actor=owner, name="Lighthouse")
    join(team, owner, admin, Role.ADMIN)
    join(team, owner, member)
    reaching, _ = token_create(user=member, name="team", scopes=READ, team=team)
    personal, _ = token_create(user=member, name="mine", scopes=READ)
    for boss in (owner, admin):
        assert set(tokens_revocable_by(user=boss)) == {reaching}
    assert set(tokens_revocable_by(user=member)) == {reaching, personal}
    assert list(tokens_of_team(team=team)) == [reaching]


def test_making_and_revoking_are_audited_without_the_secret():
    owner, member = person("tess"), person("max")
    team = team_create(actor=owner, name="Lighthouse")
    join(team, owner, member)
    token, raw = token_create(
        user=member, name="editor", scopes=[ApiToken.Scope.CHAT], team=team, ip="10.0.0.9"
    )
    created = AuditEvent.objects.get(action=AuditAction.TOKEN_CREATED)
    assert (created.actor_id, created.owner_id, created.team_id) == (member.pk, member.pk, team.pk)
    assert created.target_id == str(token.pk) and str(created.ip) == "10.0.0.9"
    assert created.detail == {"name": "editor", "prefix": token.prefix, "scopes": ["chat"]}
    token_revoke(token=token, by=owner)
    revoked = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKED)
    assert (revoked.actor_id, revoked.owner_id, revoked.team_id) == (owner.pk, member.pk, team.pk)
    secret = raw.rsplit("_", 1)[1]
    for event in AuditEvent.objects.all():
        assert secret not in str(event.detail) and token.secret_hash not in str(event.detail)
    # A personal token's events are the user's own (no team).
    personal, _ = token_create(user=member, name="mine", scopes=READ)
    made = AuditEvent.objects.get(action=AuditAction.TOKEN_CREATED, target_id=str(personal.pk))
    assert made.team_id is None
