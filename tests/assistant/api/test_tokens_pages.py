"""The API token pages (/account/tokens/): the secret is shown once, in the response to the
POST that made it and nowhere after; revoking; the form's team and expiry choices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from assistant.api.models import ApiToken
from assistant.api.tokens import TokenError, token_authenticate, token_create
from assistant.teams.audit_models import AuditAction, AuditEvent
from assistant.teams.services import team_create
from tests.assistant.teams.personas import join, person

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"rk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def _create(client, **fields):
    data = {"name": "laptop editor", "scopes": ["memory:read", "chat"], "expiry": "30", **fields}
    return client.post(reverse("tokens:create"), data)


def test_the_secret_is_shown_once_and_works(client):
    ana = person("ana")
    client.force_login(ana)
    response = _create(client)
    assert response.status_code == 200
    page = response.content.decode()
    found = SECRET.findall(page)
    assert len(set(found)) == 1
    raw = found[0]
    assert "won't see it again" in page and "data-copy" in page
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=ana)
    assert token.name == "laptop editor" and sorted(token.scopes) == ["chat", "memory:read"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert token_authenticate(raw=raw).token == token
    # Never again: not on the list, not in the session.
    listing = client.get(reverse("tokens:list")).content.decode()
    assert raw not in listing and not SECRET.search(listing)
    assert f"rk_{token.prefix}_…" in listing and "laptop editor" in listing
    secret = raw.rsplit("_", 1)[1]
    for session in Session.objects.all():
        assert secret not in str(session.get_decoded())
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED, owner_id=ana.pk).count() == 1


def test_the_list_shows_each_tokens_status_and_only_ones_own(client):
    ana, bea = person("ana"), person("bea")
    token_create(user=ana, name="active one", scopes=["chat"])
    gone, _ = token_create(user=ana, name="revoked one", scopes=["chat"])
    gone.revoked_at = timezone.now()
    gone.save()
    old, _ = token_create(
        user=ana, name="expired one", scopes=["chat"], expires_at=timezone.now() + timedelta(1)
    )
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    token_create(user=bea, name="bea's script", scopes=["chat"])
    client.force_login(ana)
    page = client.get(reverse("tokens:list")).content.decode()
    for status in ("active", "revoked", "expired"):
        assert f'class="token-row token-{status}"' in page
    assert "bea's script" not in page and "bea&#x27;s script" not in page
    assert page.count(">Revoke</button>") == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": ""}, "This field is required"),
        ({"scopes": []}, "Choose at least one scope"),
        ({"scopes": ["memory:everything"]}, "Select a valid choice"),
        ({"expiry": "date", "expiry_date": ""}, "Pick the date"),
        ({"expiry": "date", "expiry_date": "2001-01-01"}, "cannot be in the past"),
        ({"expiry": "365"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_made(client, fields, error):
    client.force_login(person("ana"))
    response = _create(client, **fields)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not SECRET.search(response.content.decode())
    assert not ApiToken.objects.exists()


def test_expiry_choices(client):
    ana = person("ana")
    client.force_login(ana)
    assert _create(client, expiry="never").status_code == 200
    day = timezone.localdate() + timedelta(days=10)
    assert _create(client, expiry="date", expiry_date=day.isoformat()).status_code == 200
    never, on_date = ApiToken.objects.order_by("created_at", "id")
    assert never.expires_at is None
    ends = timezone.localtime(on_date.expires_at)
    assert ends.date() == day and (ends + timedelta(seconds=1)).date() == day + timedelta(days=1)
    listing = client.get(reverse("tokens:list")).content.decode()
    assert ends.strftime("%-d %b %Y") in listing


def test_the_sites_longest_lifetime_is_kept(client, settings):
    settings.API_TOKEN_MAX_DAYS = 30
    client.force_login(person("ana"))
    page = client.get(reverse("tokens:list")).content.decode()
    assert 'value="never"' not in page and 'value="90"' not in page and 'value="30"' in page
    assert _create(client, expiry="never").status_code == 400
    assert _create(client, expiry="90").status_code == 400
    too_late = (timezone.localdate() + timedelta(days=31)).isoformat()
    assert _create(client, expiry="date", expiry_date=too_late).status_code == 400
    assert not ApiToken.objects.exists()
    assert _create(client, expiry="30").status_code == 200
    settings.API_TOKEN_MAX_DAYS = 10  # not one of the presets: offered as the longest
    assert 'value="10"' in client.get(reverse("tokens:list")).content.decode()


def test_a_team_scope_only_for_ones_own_teams(client):
    tess, max_ = person("tess"), person("max")
    team = team_create(actor=tess, name="Lighthouse")
    other = team_create(actor=person("otto"), name="Elsewhere")
    join(team, tess, max_)
    client.force_login(max_)
    page = client.get(reverse("tokens:list")).content.decode()
    assert "Lighthouse" in page and "Elsewhere" not in page
    assert _create(client, team=str(other.pk)).status_code == 400
    assert not ApiToken.objects.exists()
    assert _create(client, team=str(team.pk)).status_code == 200
    assert ApiToken.objects.get().team == team
    listing = client.get(reverse("tokens:list")).content.decode()
    assert "team: Lighthouse" in listing and "you left it" not in listing


def test_revoking_ones_own_token(client):
    ana = person("ana")
    token, raw = token_create(user=ana, name="laptop", scopes=["chat"])
    client.force_login(ana)
    response = client.post(reverse("tokens:revoke", args=[token.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("tokens:list")
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == ana
    with pytest.raises(TokenError):
        token_authenticate(raw=raw)
    page = client.get(reverse("tokens:list")).content.decode()
    assert "is revoked" in page and 'class="token-row token-revoked"' in page
    assert " by ana</span>" in page
    # Again: nothing changes, nothing more is recorded.
    assert client.post(reverse("tokens:revoke", args=[token.pk])).status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).count() == 1


def test_another_users_token_cannot_be_revoked(client):
    ana, bea = person("ana"), person("bea")
    token, raw = token_create(user=bea, name="bea's", scopes=["chat"])
    client.force_login(ana)
    assert client.post(reverse("tokens:revoke", args=[token.pk])).status_code == 404
    assert client.post(reverse("tokens:revoke", args=[token.pk + 1000])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token_authenticate(raw=raw).token == token
    assert not AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).exists()


def test_the_account_page_links_to_tokens_and_usage(client):
    client.force_login(person("ana"))
    page = client.get(reverse("account")).content.decode()
    assert f'href="{reverse("tokens:list")}"' in page and f'href="{reverse("usage:mine")}"' in page
