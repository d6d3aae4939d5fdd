"""Team services: creating, removing, changing roles, leaving, transferring ownership, and
the permission-checked getter. Each refusal changes nothing (the audit log included)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.http import Http404

from assistant.teams.audit_models import AuditEvent
from assistant.teams.models import Membership, Role, Team
from assistant.teams.selectors import team_get_for_user
from assistant.teams.services import (
    TeamError,
    member_remove,
    member_role_change,
    ownership_transfer,
    team_create,
    team_join_default,
    team_leave,
    team_settings_update,
)
from tests.assistant.teams.personas import person

pytestmark = pytest.mark.django_db


def roles(team: Team) -> dict[str, str]:
    return {m.user.username: m.role for m in team.memberships.select_related("user")}


def membership(people, persona: str) -> Membership:
    return Membership.objects.get(team=people.team, user=people.get(persona))


def test_the_creator_owns_a_new_team_and_it_is_recorded():
    creator = person("cleo")
    team = team_create(actor=creator, name="  Night shift ", ip="10.0.0.7")
    assert team.name == "Night shift"
    assert roles(team) == {"cleo": "owner"}
    event = AuditEvent.objects.get(team_id=team.pk)
    assert (event.action, event.actor_id, event.actor_name, event.ip) == (
        "team.created", creator.pk, "cleo", "10.0.0.7",
    )  # fmt: skip


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_team_needs_a_sensible_name(name):
    with pytest.raises(TeamError):
        team_create(actor=person("cleo"), name=name)
    assert not Team.objects.exists() and not AuditEvent.objects.exists()


def test_the_getter_hides_teams_from_outsiders_and_former_members(people):
    for persona in ("outsider", "former"):
        with pytest.raises(Http404):
            team_get_for_user(people.get(persona), people.team.pk)
    with pytest.raises(Http404):
        team_get_for_user(people.owner, people.team.pk + 1000)  # no such team: the same 404


def test_the_getter_refuses_a_member_without_the_role(people):
    assert team_get_for_user(people.member, people.team.pk)[1].role == Role.MEMBER
    with pytest.raises(PermissionDenied):
        team_get_for_user(people.member, people.team.pk, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        team_get_for_user(people.admin, people.team.pk, role=Role.OWNER)
    assert team_get_for_user(people.owner, people.team.pk, role=Role.OWNER)[1].role == "owner"


def test_an_admin_removes_a_member_and_it_is_recorded(people):
    member_remove(actor=people.admin, team=people.team, member=membership(people, "member"))
    assert "max-member" not in roles(people.team)
    event = AuditEvent.objects.filter(action="member.removed").get()
    assert (event.actor_name, event.target_type, event.target_id) == (
        "ada-admin", "user", str(people.member.pk),
    )  # fmt: skip
    assert event.detail == {"user": "max-member", "role": "member"}


def test_a_member_cannot_remove_anyone(people):
    before = (roles(people.team), AuditEvent.objects.count())
    with pytest.raises(PermissionDenied):
        member_remove(actor=people.member, team=people.team, member=membership(people, "admin"))
    assert (roles(people.team), AuditEvent.objects.count()) == before


def test_an_admin_cannot_remove_an_admin_or_the_owner(people):
    other = person("abe-admin")
    Membership.objects.create(team=people.team, user=other, role=Role.ADMIN)
    before = roles(people.team)
    with pytest.raises(PermissionDenied):
        member_remove(
            actor=people.admin, team=people.team, member=Membership.objects.get(user=other)
        )
    with pytest.raises(TeamError, match="owner cannot be removed"):
        member_remove(actor=people.admin, team=people.team, member=membership(people, "owner"))
    assert roles(people.team) == before


def test_the_owner_removes_an_admin_but_not_themselves(people):
    member_remove(actor=people.owner, team=people.team, member=membership(people, "admin"))
    assert "ada-admin" not in roles(people.team)
    with pytest.raises(TeamError, match="Leave"):
        member_remove(actor=people.owner, team=people.team, member=membership(people, "owner"))


def test_role_changes(people):
    member_role_change(
        actor=people.admin, team=people.team, member=membership(people, "member"), role="admin"
    )
    assert roles(people.team)["max-member"] == "admin"
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.detail == {"user": "max-member", "from": "member", "to": "admin"}
    # An admin may not demote another admin; the owner may.
    with pytest.raises(PermissionDenied):
        member_role_change(
            actor=people.admin, team=people.team, member=membership(people, "member"), role="member"
        )
    member_role_change(
        actor=people.owner, team=people.team, member=membership(people, "member"), role="member"
    )
    assert roles(people.team)["max-member"] == "member"


@pytest.mark.parametrize("role", ["owner", "boss", ""])
def test_a_role_change_never_makes_an_owner_or_an_unknown_role(people, role):
    with pytest.raises(TeamError):
        member_role_change(
            actor=people.owner, team=people.team, member=membership(people, "member"), role=role
        )
    assert roles(people.team)["max-member"] == "member"


def test_a_member_cannot_change_roles_and_nobody_changes_the_owners(people):
    with pytest.raises(PermissionDenied):
        member_role_change(
            actor=people.member, team=people.team, member=membership(people, "member"), role="admin"
        )
    with pytest.raises(TeamError, match="transferring ownership"):
        member_role_change(
            actor=people.admin, team=people.team, member=membership(people, "owner"), role="member"
        )
    assert roles(people.team) == {
        "tess-owner": "owner",
        "ada-admin": "admin",
        "max-member": "member",
    }


def test_leaving(people):
    team_leave(actor=people.member, team=people.team)
    assert "max-member" not in roles(people.team)
    assert AuditEvent.objects.filter(action="member.left", actor_id=people.member.pk).count() == 1
    with pytest.raises(PermissionDenied):  # gone already
        team_leave(actor=people.member, team=people.team)


def test_the_owner_must_transfer_before_leaving(people):
    before = AuditEvent.objects.count()
    with pytest.raises(TeamError, match="transfer ownership"):
        team_leave(actor=people.owner, team=people.team)
    assert roles(people.team)["tess-owner"] == "owner" and AuditEvent.objects.count() == before
    ownership_transfer(actor=people.owner, team=people.team, member=membership(people, "member"))
    assert roles(people.team) == {
        "tess-owner": "admin",
        "ada-admin": "admin",
        "max-member": "owner",
    }
    event = AuditEvent.objects.get(action="ownership.transferred")
    assert event.detail == {"to": "max-member", "to_was": "member"}
    team_leave(actor=people.owner, team=people.team)
    assert roles(people.team) == {"ada-admin": "admin", "max-member": "owner"}


def test_only_the_owner_transfers_and_only_to_a_member(people):
    with pytest.raises(PermissionDenied):
        ownership_transfer(
            actor=people.admin, team=people.team, member=membership(people, "member")
        )
    stranger_team = team_create(actor=people.outsider, name="Elsewhere")
    theirs = Membership.objects.get(team=stranger_team)
    with pytest.raises(TeamError, match="no longer in this team"):
        ownership_transfer(actor=people.owner, team=people.team, member=theirs)
    assert roles(people.team)["tess-owner"] == "owner"
    assert roles(stranger_team) == {"otto-outsider": "owner"}


def check_deferred() -> None:
    """Run the deferred checks now, as a commit would. SET CONSTRAINTS lasts for the rest of
    the test's transaction: defer_again() after the savepoint."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def defer_again() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_the_database_allows_one_owner_per_team(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(team=people.team, user=people.admin).update(role="owner")


def test_the_database_refuses_a_team_without_an_owner(people):
    """The deferred trigger: checked at commit (here forced with SET CONSTRAINTS)."""
    with pytest.raises(IntegrityError, match="without an owner"), transaction.atomic():
        Membership.objects.filter(team=people.team, role="owner").update(role="admin")
        check_deferred()
    defer_again()
    with pytest.raises(IntegrityError, match="without an owner"), transaction.atomic():
        people.owner.delete()  # a team owner's account: transfer first
        check_deferred()
    defer_again()
    assert roles(people.team)["tess-owner"] == "owner"


def test_deleting_a_team_or_a_member_is_fine_for_the_database(people):
    with transaction.atomic():
        people.member.delete()
        check_deferred()
    defer_again()
    with transaction.atomic():
        people.team.delete()
        check_deferred()
    defer_again()
    assert not Team.objects.exists()
    # Its history stays, under the names it had.
    assert AuditEvent.objects.filter(team_name="Lighthouse").count() >= 5


def test_the_default_team_for_single_sign_on(people):
    """OIDC_DEFAULT_TEAM names a team by id or exact name; an unknown or ambiguous name
    joins nobody (and never fails the sign-in)."""
    newcomer = person("sso-sam")
    joined = team_join_default(user=newcomer, team="Lighthouse")
    assert (joined.team, joined.role) == (people.team, "member")
    assert AuditEvent.objects.get(action="member.joined", actor_id=newcomer.pk).detail == {
        "role": "member", "via": "sso",
    }  # fmt: skip
    assert team_join_default(user=people.admin, team=str(people.team.pk)).role == "admin"
    team_create(actor=people.outsider, name="Lighthouse")  # now two teams share the name
    other = person("sso-kim")
    assert team_join_default(user=other, team="Lighthouse") is None
    assert team_join_default(user=other, team="Nowhere") is None
    assert not Membership.objects.filter(user=other).exists()


def test_team_settings_are_for_admins_and_recorded(people):
    with pytest.raises(PermissionDenied):
        team_settings_update(actor=people.member, team=people.team, members_may_invite=True)
    team_settings_update(actor=people.admin, team=people.team, members_may_invite=True)
    people.team.refresh_from_db()
    assert people.team.members_may_invite
    event = AuditEvent.objects.get(action="team.settings_changed")
    assert event.detail == {"members_may_invite": True} and event.actor_name == "ada-admin"
