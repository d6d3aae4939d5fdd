"""Local accounts and their end: sign-up on or off, deactivation ending every session,
the admin doing the same, strict OIDC settings at start-up, and a row for every
/accounts/ URL (checked against the URL conf)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assistant.auth.services import user_deactivate
from tests.assistant.test_oidc import signed_in_user_id
from tests.assistant.test_settings import start_django
from tests.factories import PASSWORD

User = get_user_model()


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
