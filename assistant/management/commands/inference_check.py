"""Print each profile's backend and model, and the result of a short round-trip."""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assistant.profiles import backend_for_profile
from inference import check_backend


class Command(BaseCommand):
    help = "Check that the configured model backends answer."

    def add_arguments(self, parser):
        parser.add_argument("--profile", choices=list(settings.MODEL_PROFILES), default=None)

    def handle(self, *args, profile=None, **options):
        keys = [profile] if profile else list(settings.MODEL_PROFILES)
        failures = 0
        for key in keys:
            backend = backend_for_profile(key)
            self.stdout.write(f"[{key}] backend {backend.base_url}  model {backend.model}")
            result = asyncio.run(check_backend(backend))
            if result.ok:
                models = ", ".join(result.models) if result.models else "(not listed)"
                self.stdout.write(
                    self.style.SUCCESS(
                        f"  OK in {result.latency_ms:.0f} ms; served models: {models}; "
                        f"reply: {result.reply!r}"
                    )
                )
            else:
                failures += 1
                self.stdout.write(self.style.ERROR(f"  FAILED: {result.error}"))
        if failures:
            raise CommandError(f"{failures} backend(s) did not answer.")
