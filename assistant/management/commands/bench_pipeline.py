"""Benchmark the background pipeline (summaries, extraction, reconciliation) on a real model.

Uses the local llama.cpp server with the bundled SmolLM2 (started here when
INFERENCE_BASE_URL is unset), or the configured background profile otherwise. Over N
synthetic conversations it measures conversations per minute, tokens per conversation,
memories extracted (and how many planted facts they caught) and parse failures. Then it
measures what the pipeline adds to a chat turn before the model is called: the turn
enqueues nothing, and only a long conversation's prompt reads its summaries.

Run: python manage.py bench_pipeline [--conversations 6] [--json bench-results/pipeline.json]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings
from rich.console import Console
from rich.table import Table

from assistant.background.backfill import conversation_backfill
from assistant.background.models import TaskRun
from assistant.background.pipeline import background_backend
from assistant.background.tasks import conversation_summarise
from assistant.management.commands._pipeline_bench_data import (
    conversations_create,
    long_conversation_create,
)
from assistant.management.commands.bench_chat import _machine, _stats
from assistant.models import Message
from assistant.services.conversations import message_send
from assistant.services.turn_context import turn_prompt_prepare
from inference import ContentDelta, ReasoningDelta, local_server, stream_chat
from memory.consolidation.save import thread_key_for
from memory.management.schema import require_schema
from memory.models import Kind, MemoryItem, SessionSummary
from memory.services.preferences import memory_settings_update

BENCH_USER = "bench-pipeline"
TURN_SAMPLES = 40


class Command(BaseCommand):
    help = "Measure the background pipeline's throughput and what it adds to a chat turn."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=6)
        parser.add_argument("--json", dest="json_out", default=None)
        parser.add_argument(
            "--max-input-tokens",
            type=int,
            default=1500,
            help="SUMMARY_MAX_INPUT_TOKENS for the run (the local model's context is small)",
        )

    def handle(self, *args, conversations, json_out, max_input_tokens, **options):
        require_schema()
        console = Console()
        llama, profiles, backend_note = self._backend()
        bench = {
            "SUMMARY_MAX_INPUT_TOKENS": max_input_tokens,
            "SUMMARY_MAX_OUTPUT_TOKENS": 200,
            "EXTRACTION_MAX_OUTPUT_TOKENS": 400,
            "MODEL_PROFILES": profiles,
        }
        user = self._bench_user()
        try:
            with override_settings(**bench):
                config = background_backend()
                console.print(f"Backend: {config.model} at {config.base_url} ({backend_note})")
                pipeline = self._run_pipeline(console, user, conversations)
                turn = self._turn_overhead(user, config)
        finally:
            get_user_model().objects.filter(username=BENCH_USER).delete()
            if llama is not None:
                llama.stop()
        report = {
            "benchmark": "pipeline",
            "machine": {**_machine(), "backend": backend_note, "model": config.model},
            "settings": {k: v for k, v in bench.items() if k != "MODEL_PROFILES"},
            "pipeline": pipeline,
            "chat_turn": turn,
        }
        self._print(console, pipeline, turn)
        if json_out:
            Path(json_out).parent.mkdir(parents=True, exist_ok=True)
            Path(json_out).write_text(json.dumps(report, indent=2))
            console.print(f"Wrote {json_out}")

    # -- setup -------------------------------------------------------------------------

    def _backend(self):
        """(LocalLLMServer or None, MODEL_PROFILES for the run, a description)."""
        profiles = {key: dict(value) for key, value in settings.MODEL_PROFILES.items()}
        if not settings.EMBEDDED_LLM:
            return None, profiles, "configured backend"
        model_path = settings.LOCAL_MODEL_PATH or local_server.bundled_model_path()
        server = local_server.LocalLLMServer(
            model_path, log_path=settings.DATA_DIR / "bench" / "llama-pipeline.log"
        )
        try:
            base_url = server.start()
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        for profile in profiles.values():
            profile.update(base_url=base_url, model=Path(model_path).stem)
        return server, profiles, f"llama.cpp (llama-cpp-python) with {Path(model_path).name}"

    def _bench_user(self):
        User = get_user_model()
        User.objects.filter(username=BENCH_USER).delete()
        user = User.objects.create_user(username=BENCH_USER, password=None)
        memory_settings_update(owner=user, auto_accept_extracted=True)
        return user

    # -- the pipeline --------------------------------------------------------------------

    def _run_pipeline(self, console, user, count: int) -> dict:
        planted = conversations_create(owner=user, count=count)
        rows = []
        started = time.perf_counter()
        for index, item in enumerate(planted, start=1):
            began = time.perf_counter()
            run, outcome = conversation_backfill(conversation=item.conversation)
            seconds = time.perf_counter() - began
            memories = list(
                MemoryItem.objects.filter(thread_key=thread_key_for(item.conversation.pk))
                .exclude(kind=Kind.SUMMARY).values_list("text", flat=True)
            )  # fmt: skip
            summary = SessionSummary.objects.filter(conversation=item.conversation).first()
            texts = " ".join(memories).lower()
            caught = sum(1 for keyword in item.keywords if keyword in texts)
            rows.append({
                "seconds": round(seconds, 2), "state": run.state,
                "prompt_tokens": outcome.prompt_tokens,
                "completion_tokens": outcome.completion_tokens,
                "memories": outcome.memories_added, "skipped": outcome.memories_skipped,
                "parse_failures": outcome.parse_failures, "planted": len(item.keywords),
                "planted_caught": caught, "problems": outcome.problems,
                "planted_keywords": list(item.keywords), "memory_texts": memories,
                "summary": summary.memory.text if summary else "",
            })  # fmt: skip
            console.print(
                f"[{index}/{count}] {run.state} in {seconds:.1f} s: {outcome.memories_added} "
                f"memories, {outcome.parse_failures} parse failures, "
                f"{outcome.prompt_tokens}+{outcome.completion_tokens} tokens"
            )
        elapsed = time.perf_counter() - started
        done = [row for row in rows if row["state"] == TaskRun.State.SUCCEEDED]
        return {
            "conversations": count,
            "succeeded": len(done),
            "failed": sum(1 for row in rows if row["state"] == TaskRun.State.FAILED),
            "wall_seconds": round(elapsed, 1),
            "conversations_per_minute": round(count / (elapsed / 60), 2),
            "seconds_per_conversation": _stats([row["seconds"] for row in rows]),
            "prompt_tokens_per_conversation": _stats([row["prompt_tokens"] for row in done]),
            "completion_tokens_per_conversation": _stats(
                [row["completion_tokens"] for row in done]
            ),
            "memories_extracted": sum(row["memories"] for row in rows),
            "duplicates_skipped": sum(row["skipped"] for row in rows),
            "parse_failures": sum(row["parse_failures"] for row in rows),
            "extraction_gave_up": sum(
                1 for row in rows if any("gave up" in p for p in row["problems"])
            ),
            "planted_facts": sum(row["planted"] for row in rows),
            "planted_facts_caught": sum(row["planted_caught"] for row in rows),
            "runs": rows,
        }

    # -- a chat turn -----------------------------------------------------------------------

    def _turn_overhead(self, user, config) -> dict:
        """A turn's work before the model is called (save the message, retrieve memory,
        build the prompt) in a long conversation whose early turns are left out, with the
        summary block off (SUMMARY_PROMPT_TOKEN_BUDGET=0: the code path before this
        pipeline) and on. Turns are interleaved so drift hits both alike."""
        conversation = long_conversation_create(owner=user)
        run, _ = conversation_backfill(conversation=conversation)
        variants = {"summaries_off": 0, "summaries_on": settings.SUMMARY_PROMPT_TOKEN_BUDGET}
        timings: dict[str, list[float]] = {name: [] for name in variants}
        prompt = None
        sends = mock.patch.object(conversation_summarise, "apply_async")
        with override_settings(CHAT_HISTORY_TOKEN_BUDGET=600), sends as enqueue:
            runs_before = TaskRun.objects.count()
            for _ in range(TURN_SAMPLES):
                for name, budget in variants.items():
                    with override_settings(SUMMARY_PROMPT_TOKEN_BUDGET=budget):
                        began = time.perf_counter()
                        _, answer = message_send(conversation=conversation, text="What next?")
                        built = turn_prompt_prepare(answer=answer)
                        timings[name].append((time.perf_counter() - began) * 1000)
                    # Done with it: the next send needs no answer open here.
                    Message.objects.filter(pk=answer.pk).update(status=Message.Status.COMPLETE)
                    if budget:
                        prompt = built
            enqueued = enqueue.call_count + TaskRun.objects.count() - runs_before
        ttft = self._first_token_ms(config, prompt.messages)
        off = statistics.median(timings["summaries_off"])
        on = statistics.median(timings["summaries_on"])
        return {
            "samples": TURN_SAMPLES,
            "summary_run": run.state,
            "summary_in_prompt": any(p["part"] == "Conversation summary" for p in prompt.parts),
            "tasks_enqueued_by_turns": enqueued,
            "pre_backend_ms_summaries_off": _stats(timings["summaries_off"]),
            "pre_backend_ms_summaries_on": _stats(timings["summaries_on"]),
            "added_ms_p50": round(on - off, 2),
            "backend_first_token_ms": ttft,
            "added_share_of_turn_to_first_token": round((on - off) / (off + ttft), 4)
            if ttft
            else None,
        }

    def _first_token_ms(self, config, messages) -> float:
        async def once() -> float:
            began = time.perf_counter()
            async for event in stream_chat(config, messages):
                if isinstance(event, ContentDelta | ReasoningDelta):
                    return (time.perf_counter() - began) * 1000
            return 0.0

        samples = [asyncio.run(once()) for _ in range(3)]
        return round(statistics.median(samples), 1)

    def _print(self, console, pipeline: dict, turn: dict) -> None:
        table = Table(title="Background pipeline")
        table.add_column("measure")
        table.add_column("value", justify="right")
        rows = [
            ("conversations (succeeded / failed)",
             f"{pipeline['conversations']} ({pipeline['succeeded']} / {pipeline['failed']})"),
            ("conversations per minute", f"{pipeline['conversations_per_minute']}"),
            ("seconds per conversation p50", f"{pipeline['seconds_per_conversation']['p50']}"),
            ("prompt tokens per conversation p50",
             f"{pipeline['prompt_tokens_per_conversation']['p50']}"),
            ("completion tokens per conversation p50",
             f"{pipeline['completion_tokens_per_conversation']['p50']}"),
            ("memories extracted", f"{pipeline['memories_extracted']}"),
            ("planted facts caught",
             f"{pipeline['planted_facts_caught']} / {pipeline['planted_facts']}"),
            ("parse failures (extraction gave up)",
             f"{pipeline['parse_failures']} ({pipeline['extraction_gave_up']})"),
            ("turn pre-backend p50, summary block off (ms)",
             f"{turn['pre_backend_ms_summaries_off']['p50']}"),
            ("turn pre-backend p50, summary block on (ms)",
             f"{turn['pre_backend_ms_summaries_on']['p50']}"),
            ("summary block in the long chat's prompt", f"{turn['summary_in_prompt']}"),
            ("tasks enqueued by chat turns", f"{turn['tasks_enqueued_by_turns']}"),
            ("backend first token (ms)", f"{turn['backend_first_token_ms']}"),
            ("pipeline share of a turn's time to first token",
             f"{turn['added_share_of_turn_to_first_token']}"),
        ]  # fmt: skip
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)
