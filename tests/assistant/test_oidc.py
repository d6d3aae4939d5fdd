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
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assistant.auth.services import user_deactivate
from assistant.settings_auth import oidc_providers
from tests.assistant.test_settings import start_django
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


def test_local_sign_up_off_hides_the_link_and_refuses(db, client, settings):
    settings.SIGNUP_ENABLED = False
    assert "signup-link" not in client.get("/accounts/login/").text
    assert client.get("/accounts/signup/").status_code == 404
    form = {"username": "ivan", "password1": "tricky-Horse-42", "password2": "tricky-Horse-42"}
    response = client.post("/accounts/signup/", form)
    assert response.status_code == 404
    assert "Sign-up is closed" in response.text
    assert not User.objects.exists()


def test_local_sign_up_on_creates_and_signs_in(db, client, settings):
    settings.SIGNUP_ENABLED = True
    assert "signup-link" in client.get("/accounts/login/").text
    assert client.get("/accounts/signup/").status_code == 200
    weak = {"username": "judy", "password1": "password123", "password2": "password123"}
    assert client.post("/accounts/signup/", weak).status_code == 400
    assert not User.objects.exists()

    form = {"username": "judy", "email": "judy@example.com",
            "password1": "tricky-Horse-42", "password2": "tricky-Horse-42"}  # fmt: skip
    response = client.post("/accounts/signup/", form)
    assert response.status_code == 302
    judy = User.objects.get(username="judy")
    assert signed_in_user_id(client) == str(judy.pk)

    taken = {**form, "username": "judy2", "email": "JUDY@example.com"}
    response = Client().post("/accounts/signup/", taken)
    assert response.status_code == 400
    assert "already exists" in response.text


def test_deactivating_ends_every_session_at_once(db, owner, outsider):
    browsers = [Client(), Client()]
    for browser in browsers:
        response = browser.post("/accounts/login/", {"username": "olivia", "password": PASSWORD})
        assert response.status_code == 302
    bystander = Client()
    bystander.force_login(outsider)

    assert user_deactivate(user=owner) == 2
    owner.refresh_from_db()
    assert not owner.is_active
    for browser in browsers:
        response = browser.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert bystander.get("/").status_code == 200
    assert Session.objects.count() == 1
    # And no new session: the password no longer signs in.
    response = Client().post("/accounts/login/", {"username": "olivia", "password": PASSWORD})
    assert response.status_code == 200


def test_an_open_session_of_a_user_made_inactive_elsewhere_is_refused(db, owner_client, owner):
    assert owner_client.get("/").status_code == 200
    User.objects.filter(pk=owner.pk).update(is_active=False)  # not through user_deactivate
    response = owner_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_admin_action_deactivates_and_ends_sessions(db, client, owner, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    olivia = Client()
    olivia.force_login(owner)
    client.force_login(admin)

    response = client.post(
        "/admin/auth/user/", {"action": "deactivate", "_selected_action": [owner.pk, admin.pk]}
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    admin.refresh_from_db()
    assert not owner.is_active
    assert admin.is_active  # an admin does not lock themselves out by ticking their own row
    assert olivia.get("/").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_unticking_active_in_the_admin_ends_sessions(db, client, owner, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    olivia = Client()
    olivia.force_login(owner)
    client.force_login(admin)
    joined = owner.date_joined
    form = {
        "username": owner.username, "email": "", "first_name": "", "last_name": "",
        "is_staff": "", "is_superuser": "",  # is_active left out: unticked
        "date_joined_0": joined.strftime("%Y-%m-%d"), "date_joined_1": joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": joined.strftime("%H:%M:%S"),
    }  # fmt: skip
    form = {key: value for key, value in form.items() if value != ""}
    response = client.post(f"/admin/auth/user/{owner.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    owner.refresh_from_db()
    assert not owner.is_active
    assert olivia.get("/").status_code == 302
    assert Session.objects.count() == 1  # the admin's own


@pytest.mark.parametrize(
    ("env", "hint"),
    [
        ({"OIDC_ISSUER_URL": "https://id.example.com/realms/x"}, "only OIDC_ISSUER_URL is set"),
        ({"OIDC_ISSUER_URL": "id.example.com"}, "OIDC_ISSUER_URL='id.example.com'"),
        ({"OIDC_PROVIDER_ID": "My SSO"}, "OIDC_PROVIDER_ID='My SSO'"),
    ],
)
def test_incomplete_oidc_settings_stop_start_up(env, hint):
    result = start_django(**env)
    assert result.returncode != 0
    assert hint in result.stderr


# Every /accounts/ URL for an anonymous visitor and a signed-in user (GET, SSO not configured,
# sign-up off): name -> (kwargs, anonymous status, signed-in status). Generated check below: a
# new /accounts/ URL without a row fails.
ACCOUNT_ROWS = {
    "login": ({}, 200, 200),
    "account_login": ({}, 200, 200),
    "logout": ({}, 405, 405),  # POST only
    "account_logout": ({}, 405, 405),
    "signup": ({}, 404, 404),
    "account_signup": ({}, 404, 404),
    "account_inactive": ({}, 200, 200),
    "socialaccount_login_cancelled": ({}, 200, 200),
    "socialaccount_login_error": ({}, 401, 401),  # the "sign-in failed" page
    "socialaccount_signup": ({}, 302, 302),  # nothing pending: back to sign-in
    "openid_connect_login": ({"provider_id": "sso"}, 404, 404),  # no such provider
    "openid_connect_callback": ({"provider_id": "sso"}, 404, 404),
}


def _account_url_names(patterns, route: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        full = route + str(entry.pattern)
        if isinstance(entry, URLResolver):
            names |= _account_url_names(entry.url_patterns, full)
        elif isinstance(entry, URLPattern) and entry.name and full.startswith("accounts/"):
            names.add(entry.name)
    return names


def test_every_accounts_url_has_a_row():
    assert _account_url_names(get_resolver().url_patterns) == set(ACCOUNT_ROWS)


@pytest.mark.parametrize("name", sorted(ACCOUNT_ROWS))
def test_accounts_urls_answer_as_expected(db, client, owner, name):
    kwargs, anonymous, signed_in = ACCOUNT_ROWS[name]
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == anonymous
    client.force_login(owner)
    assert client.get(url).status_code == signed_in
    assert User.objects.count() == 1
