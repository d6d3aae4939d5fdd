"""`manage.py connector_sync ID`: one sync in the foreground through the background
sync's claim and task run, against WsgiDAV; clear errors for what it cannot do."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assistant.background.models import TaskRun
from assistant.background.syncs import connection_claim
from connectors.crypto import secrets_encrypt
from connectors.documents.models import Document
from connectors.models import Connection
from tests.connectors.drive.conftest import connect

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("connector_sync", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_syncs_a_drive_and_prints_the_counts(owner, dav):
    dav.write("Notes/a.txt", "Apples are ripe in September.")
    dav.write("Notes/b.md", "# Pears\n\nPears ripen later.")
    dav.write("c.bin", b"\x00\x01\x02" * 100)
    connection = connect(owner, dav)
    out, err = run(connection.pk, "--user", owner.username)
    assert f"Syncing {connection.label} (connection {connection.pk})" in out
    assert "1 folder synced, 3 files: 2 indexed, 0 unchanged, 0 moved, 0 removed, 1 skipped" in out
    assert "3/3" in err  # the progress bar reached the end
    assert Document.objects.filter(connection=connection, status="indexed").count() == 2
    run_row = TaskRun.objects.get(connection_id=connection.pk, kind=TaskRun.Kind.SYNC)
    assert run_row.state == TaskRun.State.SUCCEEDED and run_row.progress_done == 3
    connection.refresh_from_db()
    assert connection.last_sync_at and not connection.sync_claimed_by  # the claim is freed
    again, _ = run(connection.pk)
    assert "0 indexed, 3 unchanged" in again


def test_an_unknown_id_fails_clearly(owner, dav):
    with pytest.raises(CommandError, match=r"No connection 999999\. The connections page"):
        run(999999)


def test_another_users_connection_is_unknown_with_user(owner, outsider, dav):
    connection = connect(owner, dav)
    with pytest.raises(CommandError, match=f"No connection {connection.pk} of 'mallory'"):
        run(connection.pk, "--user", outsider.username)
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run(connection.pk, "--user", "nobody")
    assert not Document.objects.exists()


def test_a_paused_connection_is_not_synced(owner, dav):
    connection = connect(owner, dav)
    Connection.objects.filter(pk=connection.pk).update(
        status=Connection.Status.PAUSED, paused_reason="The password was refused."
    )
    with pytest.raises(CommandError, match=r"is paused: The password was refused\. Fix it"):
        run(connection.pk)


def test_a_held_claim_is_said(owner, dav):
    dav.write("a.txt", "Some text.")
    connection = connect(owner, dav)
    assert connection_claim(connection_id=connection.pk, token="worker-task")
    with pytest.raises(CommandError, match="Not synced: Another sync of this connection"):
        run(connection.pk)
    assert not Document.objects.exists()


def test_a_server_that_refuses_pauses_it(owner, dav):
    connection = connect(owner, dav)
    Connection.objects.filter(pk=connection.pk).update(
        secrets_encrypted=secrets_encrypt({"password": "the-old-one"})  # changed on the server
    )
    with pytest.raises(CommandError, match=r"paused until you fix this\. .*password"):
        run(connection.pk)
    connection.refresh_from_db()
    assert connection.is_paused
