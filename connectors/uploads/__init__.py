"""Uploads: the user's own files, kept on this server and indexed like a drive's."""
