"""The one home of background work (see README.md, "Layout")."""
