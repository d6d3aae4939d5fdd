"""Teams (workspaces): membership, invitations, the active team, and the audit log (issue 12)."""
