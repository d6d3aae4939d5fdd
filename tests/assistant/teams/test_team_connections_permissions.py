"""Every team connections URL (/team/connections/..., the "team-connectors" namespace) for
five people working in the team: the owner, an admin, a member, a former member and an
outsider; and an anonymous visitor. The rows are checked against the URL conf: a new
team-connectors URL without a row fails test_every_team_connections_url_has_a_row.

Members read (the list, a connection's page and status, files, an event, a passage) and
get 403 for anything else; a former member and an outsider get 404 (whether the team or
the connection exists is not revealed). A refusal changes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from assistant.background.tasks import connection_sync
from assistant.teams.audit_models import AuditEvent
from assistant.teams.services import active_team_switch
from connectors.base import Connected, RemoteSource
from connectors.documents.models import Document, DocumentChunk
from connectors.models import Connection, Event
from connectors.services.connections import connection_create
from connectors.uploads.services import uploads_connection_get_or_create
from tests.assistant.teams.personas import url_names
from tests.connectors.scripted_kind import (  # noqa: F401
    ics,
    scripted_connection,
    scripted_kind_fixture,
)
from tests.document_factories import document_add

pytestmark = pytest.mark.django_db

PERSONAS = ("owner", "admin", "member", "former", "outsider")
HX = {"HTTP_HX_REQUEST": "true"}
READ = (200, 200, 200, 404, 404)

# name -> (method, statuses of owner, admin, member, former member, outsider).
ROWS = {
    "team-connectors:index": ("get", READ),
    "team-connectors:add": ("get", (200, 200, 403, 404, 404)),
    "team-connectors:detail": ("get", READ),
    "team-connectors:status": ("get", (286, 286, 286, 404, 404)),
    "team-connectors:sources": ("post", (302, 302, 403, 404, 404)),
    "team-connectors:sync": ("post", (302, 302, 403, 404, 404)),
    "team-connectors:resume": ("post", (302, 302, 403, 404, 404)),
    "team-connectors:reconnect": ("get", (200, 200, 403, 404, 404)),
    "team-connectors:disconnect": ("post", (302, 302, 403, 404, 404)),
    "team-connectors:files": ("get", READ),
    "team-connectors:file-reindex": ("post", (302, 302, 403, 404, 404)),
    "team-connectors:file-delete": ("post", (302, 302, 403, 404, 404)),
    "team-connectors:uploads-status": ("get", (286, 286, 286, 404, 404)),
    "team-connectors:uploads-start": ("get", (302, 302, 403, 404, 404)),
    "team-connectors:uploads-add": ("post", (302, 302, 403, 404, 404)),
    "team-connectors:event": ("get", READ),
    "team-connectors:passage": ("get", READ),
}
# Also: the add form posted empty (400: not valid) and the disconnect page.
EXTRA = [
    ("team-connectors:add", "post", (400, 400, 403, 404, 404)),
    ("team-connectors:disconnect", "get", (200, 200, 403, 404, 404)),
    ("team-connectors:reconnect", "post", (400, 400, 403, 404, 404)),
]
CASES = [(name, method, row) for name, (method, row) in ROWS.items()] + EXTRA


def test_every_team_connections_url_has_a_row():
    found = url_names("team-connectors")
    assert found == set(ROWS)


def test_google_is_not_mounted_for_teams():
    names = url_names()
    assert "connectors:google-callback" in names
    assert not {n for n in names if n.startswith("team-connectors:google")}


@pytest.fixture
def team_things(people, scripted_kind):
    """The team's calendar (one synced event), drive (one indexed file) and Uploads (one
    file), owned by the team's account, as the admin pages make them."""
    account = people.team.account
    scripted_kind.script.objects = {"work": {"w1.ics": ics("w1", "Team standup")}}
    calendar = scripted_connection(account, scripted_kind)
    connection_sync.apply(args=(calendar.pk,))
    drive = connection_create(
        owner=account, kind="webdav", actor=people.admin,
        connected=Connected(
            label="Team files", display_url="https://dav.example.org/", config={"url": "x"},
            secrets={"password": "p"}, sources=[RemoteSource(remote_id="/", name="All files")],
        ),
    )  # fmt: skip
    document = document_add(drive.sources.get(), "plan.md", ["The team plan."], web_url="")
    Document.objects.filter(pk=document.pk).update(revision="etag-1")
    uploads = uploads_connection_get_or_create(owner=account)
    upload = Document.objects.create(
        owner=account, connection=uploads, source=uploads.sources.get(), path="up.txt",
        remote_id="0" * 32, status=Document.Status.INDEXED,
    )  # fmt: skip
    for person in (people.owner, people.admin, people.member):
        active_team_switch(user=person, team_id=people.team.pk)
    return {"calendar": calendar, "drive": drive, "document": document, "uploads": uploads,
            "upload": upload}  # fmt: skip


def _url(name: str, things) -> str:
    calendar, drive, uploads = things["calendar"], things["drive"], things["uploads"]
    short = name.split(":", 1)[1]
    if short in ("index", "uploads-start", "uploads-add"):
        return reverse(name)
    if short == "add":
        return reverse(name, args=["scripted"])
    if short in ("files",):
        return reverse(name, args=[drive.pk])
    if short == "file-reindex":
        return reverse(name, args=[drive.pk, things["document"].pk])
    if short == "file-delete":
        return reverse(name, args=[uploads.pk, things["upload"].pk])
    if short == "uploads-status":
        return reverse(name, args=[uploads.pk])
    if short == "event":
        return reverse(name, args=[Event.objects.get(connection=calendar).pk])
    if short == "passage":
        return reverse(name, args=[things["document"].chunks.get().pk])
    return reverse(name, args=[calendar.pk])


def _state(people):
    account = people.team.account
    return (
        sorted(Connection.objects.filter(owner=account).values_list("pk", "status", "label")),
        Event.objects.filter(owner=account).count(),
        sorted(Document.objects.filter(owner=account).values_list("pk", "revision", "status")),
        DocumentChunk.objects.filter(owner=account).count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "row"), CASES)
def test_each_persona(client, people, team_things, syncs, name, method, row, persona):
    statuses = dict(zip(PERSONAS, row, strict=True))
    url = _url(name, team_things)
    before = _state(people)
    client.force_login(people.get(persona))
    response = getattr(client, method)(url, **(HX if name.endswith("status") else {}))
    assert response.status_code == statuses[persona], response.content[:300]
    if statuses[persona] in (403, 404):
        assert _state(people) == before
        assert syncs == []


@pytest.mark.parametrize(("name", "method", "row"), CASES)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, people, team_things, name, method, row):
    before = _state(people)
    response = getattr(client, method)(_url(name, team_things))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL) + "?next=")
    assert _state(people) == before


def test_a_member_working_in_personal_space_gets_404(client, people, team_things):
    """The pages are about the ACTIVE team: someone working in personal space has none."""
    active_team_switch(user=people.member, team_id=None)
    client.force_login(people.member)
    assert client.get(reverse("team-connectors:index")).status_code == 404
    detail = reverse("team-connectors:detail", args=[team_things["calendar"].pk])
    assert client.get(detail).status_code == 404


def test_team_connections_are_not_on_the_personal_pages(client, people, team_things):
    """A team's connection is not anyone's personal one, not even an admin's."""
    client.force_login(people.admin)
    calendar = team_things["calendar"]
    assert client.get(reverse("connectors:detail", args=[calendar.pk])).status_code == 404
    body = client.get(reverse("connectors:index")).content.decode()
    assert calendar.label not in body


def test_a_personal_connection_is_not_on_the_team_pages(client, people, team_things, scripted_kind):
    mine = scripted_connection(people.admin, scripted_kind)
    client.force_login(people.admin)
    assert client.get(reverse("team-connectors:detail", args=[mine.pk])).status_code == 404
    assert mine.label not in client.get(reverse("team-connectors:index")).content.decode()


def test_a_member_sees_the_list_without_admin_buttons(client, people, team_things):
    client.force_login(people.member)
    body = client.get(reverse("team-connectors:index")).content.decode()
    assert team_things["calendar"].label in body and "Add a connection" not in body
    assert f'href="{reverse("connectors:index")}"' in body  # the way to one's own
    detail = reverse("team-connectors:detail", args=[team_things["calendar"].pk])
    body = client.get(detail).content.decode()
    assert "Sync now" not in body and "Disconnect" not in body
    assert reverse("team-connectors:index") in body  # links stay on the team's pages
    client.force_login(people.admin)
    body = client.get(detail).content.decode()
    sync = reverse("team-connectors:sync", args=[team_things["calendar"].pk])
    assert "Sync now" in body and sync in body


def test_google_is_offered_personally_not_to_teams(client, people, team_things):
    client.force_login(people.admin)
    body = client.get(reverse("team-connectors:index")).content.decode()
    assert "Not offered for teams yet" in body
    assert "/google/" not in body
