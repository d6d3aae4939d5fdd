from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = "Assistant"

    def ready(self) -> None:
        from assistant import checks  # noqa: F401  (registers the deploy checks)

        # memory/ cannot import the chat; it announces permanent forgets instead.
        from assistant.services.scrub import answers_scrub_memories
        from memory.events import memory_erased

        memory_erased.connect(answers_scrub_memories, dispatch_uid="assistant-scrub-memories")

        # The audit log records memory and connection changes they announce.
        from assistant.teams import receivers as audit_receivers

        audit_receivers.connect()

        # Background work: task runs follow Celery's signals, and the memory page shows
        # them and hands big imports over through memory's hooks.
        from assistant.background import signals
        from assistant.background.imports import memory_import_enqueue
        from assistant.background.views import pipeline_context
        from memory.hooks import background_hooks_register

        signals.connect()
        background_hooks_register(
            import_enqueue=memory_import_enqueue, status_context=pipeline_context
        )

        # connectors cannot import the background home either: syncs go through its hook.
        from assistant.background.syncs import connection_sync_enqueue, connection_sync_status
        from connectors.hooks import sync_enqueue_register

        sync_enqueue_register(connection_sync_enqueue, status=connection_sync_status)
