"""Sign-in: brute-force lock-out (django-axes), password rules, the first-admin bootstrap."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from tests.e2e.conftest import PASSWORD

LOCKED = "Too many failed sign-in attempts"


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="ada", email="ada@example.com", password=PASSWORD
    )


def post_login(client, path: str, username: str, password: str):
    return client.post(path, {"username": username, "password": password, "next": "/"})


def signed_in_as(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return user_id and str(user_id)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_repeated_failures_lock_the_sign_in_with_a_clear_message(client, admin_user, path):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = post_login(client, path, "ada", "wrong-password")
        assert response.status_code == 200
        assert LOCKED not in response.text

    response = post_login(client, path, "ada", "wrong-password")
    assert response.status_code == 429
    assert LOCKED in response.text
    assert f"locked for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in response.text
    assert 'name="username"' in response.text  # still the sign-in page, username kept
    assert 'value="ada"' in response.text

    # While locked, even the right password is refused, on both sign-in pages.
    for locked_path in ("/accounts/login/", "/admin/login/"):
        response = post_login(client, locked_path, "ada", PASSWORD)
        assert response.status_code == 429
        assert LOCKED in response.text
        assert signed_in_as(client) is None

    # Another account from the same address is not affected.
    client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    assert AccessAttempt.objects.filter(username="nobody").count() == 1


def test_the_lock_lifts_after_the_cool_off(client, admin_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "/accounts/login/", "ada", "wrong-password")
    assert post_login(client, "/accounts/login/", "ada", PASSWORD).status_code == 429

    # Age the recorded failures past the cool-off instead of waiting for it.
    past = AccessAttempt.objects.get(username="ada").attempt_time - (
        settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    )
    AccessAttempt.objects.filter(username="ada").update(attempt_time=past)

    response = post_login(client, "/accounts/login/", "ada", PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(client) == str(admin_user.pk)
    # A successful sign-in clears the failures.
    assert not AccessAttempt.objects.filter(username="ada").exists()


def test_personas_sign_in_through_the_real_form(client, owner):
    """The personas' password passes every validator, and the login view hands axes its request."""
    validate_password(PASSWORD, user=owner)
    response = post_login(client, "/accounts/login/", "olivia", PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(client) == str(owner.pk)


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("olivia-smith", "too similar to the username"),
        ("Xk3-q", "too short"),
        ("password123", "too common"),
        ("48151623427", "entirely numeric"),
    ],
)
def test_every_password_validator_is_on(django_user_model, password, complaint):
    user = django_user_model(username="olivia-smith", email="olivia@example.com")
    with pytest.raises(ValidationError) as error:
        validate_password(password, user=user)
    assert any(complaint in message for message in error.value.messages)


def test_bootstrap_creates_an_admin_who_can_sign_in(db, client, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("ADMIN_USERNAME", "root-admin")
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    password = re.search(r"Password: (\S+)", out.getvalue()).group(1)

    response = post_login(client, "/admin/login/", "root-admin", password)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_bootstrap_refuses_a_weak_admin_password(monkeypatch, django_user_model):
    monkeypatch.setenv("ADMIN_USERNAME", "root-admin")
    monkeypatch.setenv("ADMIN_PASSWORD", "12345678")
    with pytest.raises(CommandError, match="ADMIN_PASSWORD is too weak"):
        call_command("bootstrap", stdout=io.StringIO())
    assert not django_user_model.objects.filter(username="root-admin").exists()
