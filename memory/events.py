"""Notifications memory sends to the layers above it (which it must not import).

`memory_erased` is sent inside the transaction of a permanent forget, with the ids and
the texts being erased, so that copies kept elsewhere (a chat answer's record of what
it was given) can be scrubbed in the same transaction.
"""

from django.dispatch import Signal

memory_erased = Signal()  # kwargs: item_ids: list[int], texts: list[str]
