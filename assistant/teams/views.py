"""The teams pages (thin views): my teams, one team's members and invitations, joining by
link, and switching the active team.

Every team view goes through team_get_for_user: a non-member (a former member too) gets
404, a member without the role 403. Every change is a POST; the services re-check the
rules under the team's row lock and write the audit event.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from assistant.teams.audit import client_ip
from assistant.teams.forms import TeamSettingsForm
from assistant.teams.invitations import (
    InvitationError,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_revoke,
    may_invite,
)
from assistant.teams.models import Invitation, Membership, Role, role_at_least
from assistant.teams.selectors import (
    active_context_for,
    invitations_pending,
    members_of,
    team_get_for_user,
    teams_for_user,
)
from assistant.teams.services import (
    TeamError,
    active_team_switch,
    member_remove,
    member_role_change,
    ownership_transfer,
    team_create,
    team_leave,
    team_settings_update,
)


def _done(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)


def _detail_url(pk: int) -> str:
    return reverse("teams:detail", args=[pk])


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "memberships": teams_for_user(user=request.user),
        "active": active_context_for(request),
    }
    return render(request, "assistant/teams/index.html", context)


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    try:
        team = team_create(
            actor=request.user, name=request.POST.get("name", ""), ip=client_ip(request)
        )
    except TeamError as error:
        messages.error(request, str(error))
        return _done(request, reverse("teams:index"))
    messages.success(request, f"Team {team.name} created. Invite people below.")
    return _done(request, _detail_url(team.pk))


def _detail_page(
    request: HttpRequest, pk: int, *, issued=None, settings_form=None, status: int = 200
) -> HttpResponse:
    team, mine = team_get_for_user(request.user, pk)
    is_admin = role_at_least(mine.role, Role.ADMIN)
    context = {
        "team": team,
        "mine": mine,
        "is_admin": is_admin,
        "is_owner": mine.role == Role.OWNER,
        "may_invite": may_invite(team=team, membership=mine),
        "members": members_of(team=team),
        "invitations": invitations_pending(team=team) if is_admin else [],
        "issued": issued,
        "roles": [(Role.MEMBER, "Member"), (Role.ADMIN, "Admin")],
        "settings_form": (settings_form or TeamSettingsForm.for_team(team)) if is_admin else None,
    }
    return render(request, "assistant/teams/detail.html", context, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk)


@login_required
@require_POST
def settings_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Invitations by members, allowed models, learning from team chats, retention."""
    team, _ = team_get_for_user(request.user, pk, role=Role.ADMIN)
    form = TeamSettingsForm(request.POST)
    if form.is_valid():
        try:
            team_settings_update(
                actor=request.user, team=team, ip=client_ip(request), **form.cleaned_data
            )
        except TeamError as error:
            form.add_error(None, str(error))
    if not form.is_valid():
        return _detail_page(request, pk, settings_form=form, status=400)
    messages.success(request, "Settings saved.")
    return _done(request, _detail_url(pk))


@login_required
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """A new invitation; the page comes back with its link, shown this once."""
    team, _ = team_get_for_user(request.user, pk)
    try:
        issued = invitation_create(
            actor=request.user, team=team,
            role=request.POST.get("role", Role.MEMBER), email=request.POST.get("email", ""),
            link_for=lambda token: request.build_absolute_uri(reverse("teams:join", args=[token])),
            ip=client_ip(request),
        )  # fmt: skip
    except TeamError as error:
        messages.error(request, str(error))
        return _detail_page(request, pk, status=400)
    return _detail_page(request, pk, issued=issued)


@login_required
@require_POST
def invitation_revoke_view(request: HttpRequest, pk: int, invitation_id: int) -> HttpResponse:
    team, _ = team_get_for_user(request.user, pk)
    invitation = get_object_or_404(Invitation, pk=invitation_id, team=team)
    try:
        invitation_revoke(
            actor=request.user, team=team, invitation=invitation, ip=client_ip(request)
        )
        messages.success(request, "Invitation withdrawn: its link no longer works.")
    except TeamError as error:
        messages.error(request, str(error))
    return _done(request, _detail_url(pk))


def _member(request: HttpRequest, pk: int, membership_id: int, role: str):
    team, _ = team_get_for_user(request.user, pk, role=role)
    return team, get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, team=team
    )


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int, membership_id: int) -> HttpResponse:
    team, member = _member(request, pk, membership_id, Role.ADMIN)
    new_role = request.POST.get("role", "")
    try:
        member_role_change(
            actor=request.user, team=team, member=member, role=new_role, ip=client_ip(request)
        )
        messages.success(request, f"{member.user.get_username()} is now {new_role}.")
    except TeamError as error:
        messages.error(request, str(error))
    return _done(request, _detail_url(pk))


@login_required
@require_POST
def member_remove_view(request: HttpRequest, pk: int, membership_id: int) -> HttpResponse:
    team, member = _member(request, pk, membership_id, Role.ADMIN)
    try:
        member_remove(actor=request.user, team=team, member=member, ip=client_ip(request))
        messages.success(request, f"{member.user.get_username()} was removed from the team.")
    except TeamError as error:
        messages.error(request, str(error))
    return _done(request, _detail_url(pk))


@login_required
@require_POST
def transfer(request: HttpRequest, pk: int, membership_id: int) -> HttpResponse:
    team, member = _member(request, pk, membership_id, Role.OWNER)
    try:
        ownership_transfer(actor=request.user, team=team, member=member, ip=client_ip(request))
        messages.success(request, f"{member.user.get_username()} now owns {team.name}.")
    except TeamError as error:
        messages.error(request, str(error))
    return _done(request, _detail_url(pk))


@login_required
@require_POST
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    team, _ = team_get_for_user(request.user, pk)
    try:
        team_leave(actor=request.user, team=team, ip=client_ip(request))
    except TeamError as error:
        messages.error(request, str(error))
        return _done(request, _detail_url(pk))
    messages.success(request, f"You left {team.name}.")
    return _done(request, reverse("teams:index"))


@login_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """The link's page: which team, which role, then Join. A bad link changes nothing."""
    try:
        invitation = invitation_for_token(token)
        if request.method == "POST":
            membership = invitation_accept(user=request.user, token=token, ip=client_ip(request))
            messages.success(request, f"Welcome to {membership.team.name}.")
            return _done(request, _detail_url(membership.team_id))
    except InvitationError as error:
        failed = {"error": str(error)}
        return render(request, "assistant/teams/join.html", failed, status=error.status)
    already = Membership.objects.filter(team_id=invitation.team_id, user=request.user).exists()  # type: ignore[misc]  # login_required: a User
    context = {"invitation": invitation, "token": token, "already": already}
    return render(request, "assistant/teams/join.html", context)


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """Work in a team or in personal space (team=""). Not a member -> 404, nothing kept."""
    raw = request.POST.get("team", "")
    if raw and not raw.isdigit():
        raise Http404("No such team.")
    active_team_switch(user=request.user, team_id=int(raw) if raw else None)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("chat:home")
    return _done(request, target)
