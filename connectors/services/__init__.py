"""Writes: connections (connections.py), syncs (sync.py), adding events (events.py)."""
