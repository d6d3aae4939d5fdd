"""Django's deploy checks for its security middleware, for subclasses too.

Django looks for `django.middleware.security.SecurityMiddleware` (and the clickjacking and
CSRF ones) in MIDDLEWARE by name, so the inline versions (assistant/middleware_inline.py)
would read as missing; settings silence those three and these checks take their place:
each warns when no entry is that class or a subclass of it."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.module_loading import import_string

REQUIRED = {
    "assistant.W001": (
        SecurityMiddleware,
        "HSTS, nosniff, the referrer policy and the HTTPS redirect",
    ),
    "assistant.W002": (XFrameOptionsMiddleware, "the X-Frame-Options header"),
    "assistant.W003": (CsrfViewMiddleware, "cross-site request forgery protection"),
}


def _installed(base: type) -> bool:
    for path in settings.MIDDLEWARE:
        try:
            middleware = import_string(path)
        except ImportError:
            continue
        if isinstance(middleware, type) and issubclass(middleware, base):
            return True
    return False


@register(Tags.security, deploy=True)
def security_middleware_installed(app_configs, **kwargs) -> list[Warning]:
    return [
        Warning(
            f"No {base.__name__} (or a subclass) in MIDDLEWARE: {what} will be missing.",
            id=check_id,
        )
        for check_id, (base, what) in REQUIRED.items()
        if not _installed(base)
    ]
