"""The first admin account, created by `manage.py bootstrap`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password


@dataclass(frozen=True)
class AdminLogin:
    username: str
    password: str | None  # None when the account already existed
    created: bool


def admin_ensure(*, username: str, email: str, password: str | None) -> AdminLogin:
    """Create the first superuser unless one exists.

    A given password must pass AUTH_PASSWORD_VALIDATORS (raises ValidationError); without one a
    random password is generated and returned once.
    """
    User = get_user_model()
    existing = User.objects.filter(is_superuser=True).first()
    if existing is not None:
        return AdminLogin(
            username=existing.get_username(),
            password=None,
            created=False,
        )
    if password:
        validate_password(password, user=User(username=username, email=email))
    else:
        password = secrets.token_urlsafe(12)
    User.objects.create_superuser(username=username, email=email, password=password)
    return AdminLogin(username=username, password=password, created=True)
