"""Whose connections a connections page works on, and links that stay in that space.

The connections views are mounted twice: /connections/ (the signed-in user's own) and
/team/connections/ (the active team's, owned by its account; assistant wraps each view so
that `request.space` is that team's space, checked per request). Reads and writes go to
`space.owner`; anything but reading needs `space.can_manage` (a team admin). Links and
redirects name `connectors:<page>` and land in the namespace the request came in by.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from memory.spaces import Space, space_of

__all__ = ["Space", "manage_space", "page_redirect", "page_url", "space_of"]


def manage_space(request: HttpRequest) -> Space:
    """The request's space, if its user may manage connections there (else 403)."""
    space = space_of(request)
    if not space.can_manage:
        raise PermissionDenied("Only the team's admins manage its connections.")
    return space


def _namespace(request: HttpRequest) -> str | None:
    match = getattr(request, "resolver_match", None)
    return match.namespace if match is not None and match.namespace else None


def page_url(request: HttpRequest, name: str, *args) -> str:
    """`connectors:<name>` in the request's mount (personal, or the team's)."""
    return reverse(f"connectors:{name}", args=args, current_app=_namespace(request))


def page_redirect(request: HttpRequest, name: str, *args) -> HttpResponseRedirect:
    return HttpResponseRedirect(page_url(request, name, *args))
