"""Google Drive: an OAuth connection whose folders sync through the Drive API."""
