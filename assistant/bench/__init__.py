"""Benchmark helpers for the assistant's commands (bench_chat): process CPU counters,
core pinning and the figures derived from them. Test support for measuring, not used by
the running service."""
