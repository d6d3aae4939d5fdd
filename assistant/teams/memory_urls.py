"""The memory pages twice: the user's own at /memory/ and the active team's at /team/memory/.

Both are memory's own views and templates (memory/urls.py). The team's run with
`request.space` set to the active team's space (assistant/teams/spaces.py: a former member
or outsider gets 404, a member gets 403 for any change but proposing an edit). Both know
the links of the page's top bar ("Personal memory" / "Team memory (name)"), offered while
the user works in a team: memory cannot ask assistant which team that is, so the links
ride on the request (`request.memory_space_links`, read lazily by memory/topbar.html).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse

from assistant.background import views as background
from assistant.teams.selectors import active_context_for
from assistant.teams.spaces import in_team_space
from memory import urls as memory_urls
from memory.views import items

PERSONAL_NAMESPACE = "memory"
TEAM_NAMESPACE = "team-memory"

# Team views a member may POST to (each checks what it allows itself).
MEMBER_POSTS = {"propose-edit"}

# Only a team's memory takes proposed edits (personal memory is edited directly). The
# team page's background-work section polls its own twin of `background-status` (the
# personal one, assistant/urls.py, sits outside /memory/): the team account's runs, for
# its admins and members.
TEAM_ONLY = [
    path("<int:pk>/propose-edit", items.propose_edit, name="propose-edit"),
    path("background", background.status, name="background"),
]


def memory_space_links(request: HttpRequest) -> list[dict]:
    """The top bar's links between personal and team memory; none outside a team."""
    team = active_context_for(request).team
    if team is None:
        return []
    match = request.resolver_match
    here = match.namespace if match is not None else PERSONAL_NAMESPACE
    spaces = (
        (PERSONAL_NAMESPACE, "Personal memory"),
        (TEAM_NAMESPACE, f"Team memory ({team.name})"),
    )
    return [
        {
            "label": label,
            "url": reverse("memory:index", current_app=namespace),
            "current": namespace == here,
        }
        for namespace, label in spaces
    ]


def _with_space_links(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # A callable: the template calls it, so only full pages pay for the lookup.
        request.memory_space_links = partial(memory_space_links, request)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def _route(entry: URLPattern, view: Callable[..., HttpResponse]) -> URLPattern:
    return path(str(entry.pattern), view, name=entry.name)


personal_memory_patterns = [
    _route(entry, _with_space_links(entry.callback)) for entry in memory_urls.urlpatterns
]

team_memory_patterns = [
    _route(
        entry,
        in_team_space(_with_space_links(entry.callback), read_only=entry.name in MEMBER_POSTS),
    )
    for entry in [*memory_urls.urlpatterns, *TEAM_ONLY]
]
