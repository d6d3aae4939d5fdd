"""Template context for proposing things to the active team.

`propose_team`: the team the signed-in user works in now (active_team_for, checked against
the memberships and cached on the request), or None. It is lazy: a page that never asks
(most pages) runs no query. memory's templates (which cannot import assistant) show the
"Propose to team" button of a personal memory only when it is set.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from assistant.teams.selectors import active_team_for


def propose_team(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"propose_team": None}
    return {"propose_team": SimpleLazyObject(lambda: active_team_for(request))}
