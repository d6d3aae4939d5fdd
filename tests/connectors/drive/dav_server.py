"""The drive tests' WebDAV server lives with the benchmark that also runs it."""

from connectors.bench.webdav import MOUNT, DavServer, dav_server

__all__ = ["MOUNT", "DavServer", "dav_server"]
