"""Team spaces for the memory and connection pages: the active team, checked per request.

The team pages of memory and connectors are those apps' own views, run with
`request.space` set to the active team's space (memory/spaces.py). The membership is read
now, on every request, so a member removed a moment ago gets a 404 at once; a member who
may not manage gets a 403 for anything but reading (and proposing, where allowed).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from assistant.teams.models import Role, role_at_least
from assistant.teams.selectors import active_context_for
from memory.spaces import Space

View = Callable[..., HttpResponse]


def team_space_for(request: HttpRequest) -> Space:
    """The active team's space; 404 when the user works in no team (or left it)."""
    context = active_context_for(request)
    if context.team is None:
        raise Http404("You are not working in a team.")
    manage = role_at_least(context.role, Role.ADMIN)
    return Space(
        owner=context.team.account,
        actor=request.user,
        label=context.team.name,
        team_id=context.team.pk,
        can_manage=manage,
        can_propose=True,
    )


def in_team_space(view: View, *, read_only: bool = False) -> View:
    """Run `view` on the active team's things. Unless `read_only` (pages that only read,
    or that check `space.can_manage` themselves), a non-GET request needs an admin."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return view(request, *args, **kwargs)  # the view's login_required redirects
        space = team_space_for(request)
        if not read_only and request.method not in ("GET", "HEAD") and not space.can_manage:
            raise PermissionDenied("This needs the admin role in this team.")
        request.space = space  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped
