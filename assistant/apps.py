from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = "Assistant"

    def ready(self) -> None:
        # memory/ cannot import the chat; it announces permanent forgets instead.
        from assistant.services.scrub import answers_scrub_memories
        from memory.events import memory_erased

        memory_erased.connect(answers_scrub_memories, dispatch_uid="assistant-scrub-memories")
