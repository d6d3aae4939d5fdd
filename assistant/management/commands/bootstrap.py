"""One-time and every-start set-up: migrate, first admin, close interrupted answers."""

import os

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from assistant.services.accounts import admin_ensure
from assistant.services.recovery import answers_close_stale


class Command(BaseCommand):
    help = (
        "Apply migrations, create the first admin (printing its login) and tidy up after a crash."
    )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS("Database is up to date."))
        try:
            login = admin_ensure(
                username=os.environ.get("ADMIN_USERNAME", "admin"),
                email=os.environ.get("ADMIN_EMAIL", "admin@localhost"),
                password=os.environ.get("ADMIN_PASSWORD") or None,
            )
        except ValidationError as error:
            raise CommandError(
                "ADMIN_PASSWORD is too weak: "
                + " ".join(error.messages)
                + " Choose a stronger one, or unset it to get a random password."
            ) from None
        if login.created:
            self.stdout.write(
                self.style.WARNING(
                    f"\n  First admin created.\n  Username: {login.username}\n"
                    f"  Password: {login.password}\n"
                    "  Keep it safe: it is shown only once (change it in the admin).\n"
                )
            )
        else:
            self.stdout.write(f"Admin account: {login.username} (already exists).")
        # Only stale ones: answers still beating belong to another live web replica.
        closed = answers_close_stale()
        if closed:
            self.stdout.write(f"Closed {closed} answer(s) left open by a stopped server.")
