"""The memory page: thin adapters that parse input, check ownership, call a service, render."""
