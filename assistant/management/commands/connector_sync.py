"""`manage.py connector_sync ID [--user USERNAME]`: one sync of one connection, in the
foreground, with a progress bar (a drive's bar also says what it indexed, skipped and
embedded so far, and the time left, as the connections page does).

It goes through the background sync's own path (assistant/background/syncs.py): the
same claim, so it never runs beside a worker's sync of the same connection, the same
task run (shown on the connections page) and the same handling of errors (a permanent
one pauses the connection).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assistant.background.models import TaskRun
from assistant.background.syncs import SyncTransient, connection_sync_run
from connectors.models import Connection
from connectors.selectors import is_drive
from connectors.services.progress import SyncProgress, progress_parts

DRIVE_BAR = "{percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} files read · {desc}"


class Command(BaseCommand):
    help = "Sync one connection now, in the foreground, with a progress bar."

    def add_arguments(self, parser) -> None:
        parser.add_argument("id", type=int, help="The connection's id (in its page's address).")
        parser.add_argument("--user", help="Only if this user owns it (their username).")

    def handle(self, *args, **options) -> None:
        connection = self._connection(options["id"], options.get("user"))
        if connection.is_paused:
            reason = (connection.paused_reason or "see the connections page").rstrip(".")
            raise CommandError(
                f"Connection {connection.pk} ({connection.label}) is paused: {reason}. Fix "
                "it, resume it on the connections page, then sync again."
            )
        drive = is_drive(connection)
        quiet = options["verbosity"] == 0
        self.stdout.write(f"Syncing {connection.label} (connection {connection.pk})…")
        shape = (
            {"bar_format": DRIVE_BAR, "desc": "looking for changes…"}
            if drive
            else {"unit": "calendar"}
        )
        with tqdm(total=0, disable=quiet, file=self.stderr._out, **shape) as bar:

            def progress(done: int, total: int) -> None:
                if bar.total != total:
                    bar.total = total
                bar.n = done
                bar.refresh()

            def watch(counts: SyncProgress) -> None:
                # The bar shows "done/total files read"; the rest of the page's line follows.
                rest = progress_parts(counts)[0 if counts.stage == "listing" else 1 :]
                bar.set_description_str(" · ".join(rest), refresh=False)
                progress(counts.done, counts.total)

            try:
                outcome = connection_sync_run(
                    connection_id=connection.pk,
                    progress=None if drive else progress,
                    watch=watch if drive else None,
                )
            except SyncTransient as error:
                raise CommandError(
                    f"The server failed for now: {error.message} The connection stays "
                    "active; try again later."
                ) from error
        if outcome.state == TaskRun.State.SKIPPED:
            raise CommandError(f"Not synced: {outcome.detail}")
        if outcome.state == TaskRun.State.FAILED:
            raise CommandError(f"{outcome.detail} {' '.join(outcome.problems)}".strip())
        self.stdout.write(self.style.SUCCESS(outcome.detail))
        for problem in outcome.problems:
            self.stdout.write(f"  {problem}")

    def _connection(self, pk: int, username: str | None) -> Connection:
        connections = Connection.objects.all()
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            connections = Connection.objects.owned_by(user)
        connection = connections.filter(pk=pk).first()
        if connection is None:
            whose = f" of {username!r}" if username else ""
            raise CommandError(
                f"No connection {pk}{whose}. The connections page shows each one's id in "
                "its address (/connections/ID/)."
            )
        return connection
