"""Personal API tokens (/account/tokens/): the user's own list, make and revoke; and a team
admin's view of the tokens that reach their team.

A new token's secret is shown once, in the response to the POST that made it (never in a
URL, the session or a later page); that response is not cached.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from assistant.api.models import ApiToken
from assistant.api.token_forms import TokenCreateForm
from assistant.api.tokens import (
    TOKEN_START,
    token_create,
    token_revoke,
    tokens_of_team,
    tokens_of_user,
)
from assistant.teams.audit import client_ip
from assistant.teams.models import Role, role_at_least
from assistant.teams.selectors import team_get_for_user, teams_for_user


@dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    status: str  # active, expired, revoked


def _rows(tokens) -> list[TokenRow]:
    return [TokenRow(token=t, status=_status(t)) for t in tokens]


def _status(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "active" if token.is_usable else "expired"


def _list_page(
    request: HttpRequest,
    form: TokenCreateForm,
    *,
    created: ApiToken | None = None,
    secret: str = "",
    status: int = 200,
) -> HttpResponse:
    admin_teams = [
        m.team for m in teams_for_user(user=request.user) if role_at_least(m.role, Role.ADMIN)
    ]
    context = {
        "form": form,
        "rows": _rows(tokens_of_user(user=request.user)),
        "created": created,
        "secret": secret,
        "admin_teams": admin_teams,
        "token_start": TOKEN_START,
    }
    return render(request, "assistant/tokens.html", context, status=status)


@login_required
@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, TokenCreateForm(user=request.user))


@login_required
@require_POST
@never_cache
def token_create_view(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST, user=request.user)
    if not form.is_valid():
        return _list_page(request, form, status=400)
    data = form.cleaned_data
    try:
        token, secret = token_create(
            user=request.user,
            name=data["name"],
            scopes=data["scopes"],
            team=data["team"],
            expires_at=data["expires_at"],
            ip=client_ip(request),
        )
    except ValueError as error:
        form.add_error(None, str(error))
        return _list_page(request, form, status=400)
    # The secret goes into this response only; the next page load never has it.
    return _list_page(request, TokenCreateForm(user=request.user), created=token, secret=secret)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(tokens_of_user(user=request.user), pk=token_id)
    if token_revoke(token=token, by=request.user, ip=client_ip(request)):
        messages.success(request, f"“{token.name}” is revoked: it stopped working at once.")
    else:
        messages.info(request, f"“{token.name}” was already revoked.")
    return redirect("tokens:list")


@login_required
@require_GET
def team_tokens(request: HttpRequest, team_id: int) -> HttpResponse:
    """The tokens that reach a team, for its admins and owner (members: 403; anyone
    else: 404). Never their secrets or hashes."""
    team, _ = team_get_for_user(request.user, team_id, role=Role.ADMIN)
    context = {"team": team, "rows": _rows(tokens_of_team(team=team))}
    return render(request, "assistant/tokens_team.html", context)


@login_required
@require_POST
def team_token_revoke(request: HttpRequest, team_id: int, token_id: int) -> HttpResponse:
    team, _ = team_get_for_user(request.user, team_id, role=Role.ADMIN)
    token = get_object_or_404(tokens_of_team(team=team), pk=token_id)
    if token_revoke(token=token, by=request.user, ip=client_ip(request)):
        owner = token.user.get_username()
        messages.success(request, f"{owner}'s token “{token.name}” is revoked.")
    else:
        messages.info(request, f"“{token.name}” was already revoked.")
    return redirect("tokens:team", team_id=team.pk)
