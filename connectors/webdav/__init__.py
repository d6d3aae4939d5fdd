"""WebDAV drives: Nextcloud, ownCloud and any WebDAV server."""
