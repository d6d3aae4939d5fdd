"""Re-embed memories made with another model (or, with --all, every memory).

    manage.py memory_reembed [--all] [--batch-size 256] [--start-after ID]

Works in id order and commits each batch, so an interrupted run loses at most one batch:
run it again and it continues with what is still stale (with --all, pass the
--start-after id it printed). Re-embedding is bookkeeping, not a change to what a memory
says: it writes no revision, and a row edited meanwhile is left to its newer vector.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from tqdm import tqdm

from memory.embedding import configured_model_name, embed_texts
from memory.management.schema import require_schema
from memory.models import MemoryItem


class Command(BaseCommand):
    help = "Re-embed memories whose embedding_model differs from EMBEDDING_MODEL."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-embed every memory")
        parser.add_argument("--batch-size", type=int, default=256)
        parser.add_argument("--start-after", type=int, default=0, help="resume after this id")

    def handle(self, *args, **options):
        require_schema()
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        model = configured_model_name()
        rows = MemoryItem.objects.filter(redacted_at__isnull=True).exclude(text="")
        if not options["all"]:
            rows = rows.filter(~Q(embedding_model=model) | Q(embedding__isnull=True))
        rows = rows.filter(pk__gt=options["start_after"]).order_by("pk")
        total = rows.count()
        if not total:
            self.stdout.write(f"Nothing to re-embed: every memory uses {model}.")
            return
        done = 0
        last_id = options["start_after"]
        progress = tqdm(total=total, unit="memory", desc=f"re-embedding with {model}")
        try:
            while True:
                batch = list(rows.filter(pk__gt=last_id).values_list("pk", "text")[:batch_size])
                if not batch:
                    break
                vectors = embed_texts([text for _, text in batch])
                with transaction.atomic():
                    for (pk, text), vector in zip(batch, vectors, strict=True):
                        # Only if the text is still the one embedded (no lost edits).
                        done += MemoryItem.objects.filter(pk=pk, text=text).update(
                            embedding=vector, embedding_model=model
                        )
                last_id = batch[-1][0]
                progress.update(len(batch))
        except KeyboardInterrupt:
            progress.close()
            raise CommandError(
                f"Interrupted after id {last_id} ({done} re-embedded). Run again to continue"
                + (f" (with --all, add --start-after {last_id})." if options["all"] else ".")
            ) from None
        progress.close()
        self.stdout.write(self.style.SUCCESS(f"Re-embedded {done} memories with {model}."))
