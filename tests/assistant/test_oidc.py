"""Single sign-on over OpenID Connect against a real local provider (oidc-provider-mock, started
here on loopback), local sign-up on and off, and deactivation ending every session.

The SSO round trip is the browser's: POST the button's form → the provider's authorization
page → submit it as a user → back to our callback with a code and state → allauth fetches the
token and userinfo from the provider over HTTP.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import oidc_provider_mock
import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client

from assistant.auth.services import user_deactivate
from assistant.settings_auth import oidc_providers
from tests.factories import PASSWORD, user_create

LOGIN_URL = "/accounts/oidc/sso/login/"
User = get_user_model()


@pytest.fixture
def idp(monkeypatch):
    """The provider's base URL (= its issuer). Any client id and secret are accepted."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def sso(settings, idp):
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        issuer_url=idp, client_id="recall-test", secret="test-secret", name="Keycloak",
        provider_id="sso", scopes=["openid", "profile", "email"],
    )  # fmt: skip
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = []
    settings.OIDC_REQUIRE_VERIFIED_EMAIL = True
    return idp


def idp_user(idp: str, sub: str, **claims) -> None:
    """Create or replace a person at the provider, with the claims it will release."""
    response = httpx.put(f"{idp}/users/{quote(sub)}", json=claims)
    assert response.status_code == 204


def provider_callback(client, idp: str, sub: str, *, next_url: str = "") -> str:
    """Press our SSO button and approve at the provider as `sub`; returns our callback URL."""
    response = client.post(LOGIN_URL, {"next": next_url} if next_url else {})
    assert response.status_code == 302
    authorize = response["Location"]
    assert authorize.startswith(f"{idp}/oauth2/authorize?")
    query = dict(parse_qsl(urlsplit(authorize).query))
    assert query["code_challenge_method"] == "S256"  # PKCE on
    approved = httpx.post(authorize, data={"sub": sub})
    assert approved.status_code == 302
    callback = approved.headers["location"]
    assert callback.startswith("http://testserver/accounts/oidc/sso/login/callback/?")
    return callback


def sso_sign_in(client, idp: str, sub: str, **kwargs):
    return client.get(provider_callback(client, idp, sub, **kwargs))


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), "state": state}
    return f"{parts.path}?{urlencode(query)}"


def signed_in_user_id(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return user_id and str(user_id)


def test_first_sign_in_creates_the_user_and_the_second_finds_the_same(db, client, sso):
    idp_user(sso, "sub-alice", email="alice@example.com", email_verified=True,
             preferred_username="alice", given_name="Alice", family_name="Liddell")  # fmt: skip

    response = sso_sign_in(client, sso, "sub-alice", next_url="/account/")
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    user = User.objects.get(email="alice@example.com")
    assert (user.username, user.first_name, user.last_name) == ("alice", "Alice", "Liddell")
    assert not user.has_usable_password()  # SSO only, until someone sets one
    assert SocialAccount.objects.get(user=user).uid == "sub-alice"
    assert signed_in_user_id(client) == str(user.pk)
    assert client.get("/account/").status_code == 200

    # Again, from another browser: the same account, nothing new.
    other = Client()
    response = sso_sign_in(other, sso, "sub-alice")
    assert response.status_code == 302
    assert signed_in_user_id(other) == str(user.pk)
    assert User.objects.count() == 1
    assert SocialAccount.objects.count() == 1


def test_a_wrong_or_replayed_state_signs_nobody_in(db, client, sso):
    idp_user(sso, "sub-bob", email="bob@example.com", email_verified=True)
    callback = provider_callback(client, sso, "sub-bob")

    forged = client.get(with_state(callback, "forged-state"))
    assert forged.status_code == 401
    assert "Sign-in failed" in forged.text
    assert "nothing was changed" in forged.text
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()

    # The same callback from another browser (no state in its session) is refused too.
    assert Client().get(callback).status_code == 401
    assert not User.objects.exists()

    # The genuine callback still works once; replaying it is refused.
    assert client.get(callback).status_code == 302
    assert User.objects.count() == 1
    client.logout()
    replay = client.get(callback)
    assert replay.status_code == 401
    assert signed_in_user_id(client) is None


def test_the_sign_in_sends_a_nonce_and_an_id_token_with_another_is_refused(db, client, sso):
    idp_user(sso, "sub-nina", email="nina@example.com", email_verified=True)
    response = client.post(LOGIN_URL)
    sent = dict(parse_qsl(urlsplit(response["Location"]).query))
    assert len(sent["nonce"]) >= 32
    callback = httpx.post(response["Location"], data={"sub": "sub-nina"}).headers["location"]

    # This browser's stashed sign-in now expects another nonce than the ID token carries
    # (as when a token minted for someone else's sign-in is slipped into the callback).
    session = client.session
    states = session["socialaccount_states"]
    (state_id,) = states
    state, stashed_at, provider = states[state_id]
    states[state_id] = ({**state, "nonce": "not-the-one-sent"}, stashed_at, provider)
    session["socialaccount_states"] = states
    session.save()

    refused = client.get(callback)
    assert refused.status_code == 403
    assert "nonce does not match" in refused.text
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()


def test_an_email_outside_the_allowed_domains_is_refused(db, client, sso, settings):
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["example.com"]
    idp_user(sso, "sub-eve", email="eve@elsewhere.org", email_verified=True)

    response = sso_sign_in(client, sso, "sub-eve")
    assert response.status_code == 403
    assert "at elsewhere.org may not sign in here" in response.text
    assert "no account was created" in response.text
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()

    # The domain is compared without regard to case.
    idp_user(sso, "sub-carol", email="carol@EXAMPLE.com", email_verified=True)
    assert sso_sign_in(Client(), sso, "sub-carol").status_code == 302
    assert User.objects.filter(email__iexact="carol@example.com").exists()


def test_narrowing_the_domains_locks_out_people_already_created(db, client, sso, settings):
    idp_user(sso, "sub-dan", email="dan@old.example", email_verified=True)
    assert sso_sign_in(client, sso, "sub-dan").status_code == 302
    client.logout()

    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["new.example"]
    assert sso_sign_in(client, sso, "sub-dan").status_code == 403
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize("verified", [False, "false", None])
def test_an_unverified_email_is_refused(db, client, sso, verified):
    claims = {"email": "frank@example.com"}
    if verified is not None:
        claims["email_verified"] = verified
    idp_user(sso, "sub-frank", **claims)

    response = sso_sign_in(client, sso, "sub-frank")
    assert response.status_code == 403
    assert "has not verified the email address frank@example.com" in response.text
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()


def test_no_email_at_all_is_refused(db, client, sso):
    idp_user(sso, "sub-nomail", name="No Mail")
    response = sso_sign_in(client, sso, "sub-nomail")
    assert response.status_code == 403
    assert "did not share an email address" in response.text
    assert not User.objects.exists()


def test_an_existing_local_account_is_not_taken_over_by_email(db, client, sso):
    local = user_create("grace")
    local.email = "Grace@example.com"
    local.save()
    idp_user(sso, "sub-grace", email="grace@example.com", email_verified=True)

    response = sso_sign_in(client, sso, "sub-grace")
    assert response.status_code == 403
    assert "already exists here" in response.text
    assert signed_in_user_id(client) is None
    assert User.objects.count() == 1
    assert not SocialAccount.objects.exists()
    # The local account still signs in with its password.
    response = client.post("/accounts/login/", {"username": "grace", "password": PASSWORD})
    assert response.status_code == 302


def test_a_taken_username_gets_another_one(db, client, sso):
    local = user_create("kim")
    idp_user(sso, "sub-kim", email="kim@example.com", email_verified=True,
             preferred_username="kim")  # fmt: skip
    assert sso_sign_in(client, sso, "sub-kim").status_code == 302
    newcomer = User.objects.get(email="kim@example.com")
    assert newcomer.pk != local.pk
    assert newcomer.username != "kim"
    assert signed_in_user_id(client) == str(newcomer.pk)


def test_a_first_sign_in_joins_the_default_team_once(db, client, sso, settings, owner):
    from assistant.teams.models import Membership, Role
    from assistant.teams.services import team_create

    team = team_create(actor=owner, name="Acme")
    settings.OIDC_DEFAULT_TEAM = "Acme"
    idp_user(sso, "sub-liz", email="liz@example.com", email_verified=True)
    assert sso_sign_in(client, sso, "sub-liz").status_code == 302
    liz = User.objects.get(email="liz@example.com")
    assert Membership.objects.get(team=team, user=liz).role == Role.MEMBER

    client.logout()
    assert sso_sign_in(client, sso, "sub-liz").status_code == 302
    assert Membership.objects.filter(user=liz).count() == 1


def test_a_missing_default_team_does_not_stop_sign_in(db, client, sso, settings):
    settings.OIDC_DEFAULT_TEAM = "No such team"
    idp_user(sso, "sub-max", email="max@example.com", email_verified=True)
    assert sso_sign_in(client, sso, "sub-max").status_code == 302
    assert User.objects.filter(email="max@example.com").exists()


def test_a_deactivated_user_cannot_sign_in_with_sso(db, client, sso):
    idp_user(sso, "sub-hal", email="hal@example.com", email_verified=True)
    assert sso_sign_in(client, sso, "sub-hal").status_code == 302
    client.logout()
    user_deactivate(user=User.objects.get(email="hal@example.com"))

    response = sso_sign_in(client, sso, "sub-hal")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/inactive/"
    assert signed_in_user_id(client) is None
    assert client.get("/accounts/inactive/").status_code == 200


def test_the_login_page_offers_sso_only_when_configured(db, client, settings, idp):
    page = client.get("/accounts/login/").text
    assert "Sign in with" not in page
    assert 'name="username"' in page

    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        issuer_url=idp, client_id="c", secret="s", name="Authentik", provider_id="sso",
        scopes=["openid", "email"],
    )  # fmt: skip
    page = client.get("/accounts/login/?next=/account/").text
    assert "Sign in with Authentik" in page
    assert f'action="{LOGIN_URL}"' in page
    assert 'name="next" value="/account/"' in page
    assert 'name="username"' in page  # local accounts stay


def test_sso_start_is_a_post_a_get_only_confirms(db, client, sso):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    assert 'method="post"' in response.text
    assert not re.findall(r"<script(?![^>]*\bsrc=)", response.text)  # no inline script (CSP)
