"""What the assistant knows about a user or team, and why."""
