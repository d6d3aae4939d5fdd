"""The connector kinds this server offers: every `connectors/<slug>/kind.py` that
defines a `ConnectorKind` subclass. Adding a kind means adding one folder."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from django.http import Http404

import connectors
from connectors.base import ConnectorKind


@cache
def kinds() -> dict[str, ConnectorKind]:
    found: dict[str, ConnectorKind] = {}
    for module_info in pkgutil.iter_modules(connectors.__path__):
        if not module_info.ispkg:
            continue
        try:
            module = importlib.import_module(f"connectors.{module_info.name}.kind")
        except ModuleNotFoundError as error:
            if error.name == f"connectors.{module_info.name}.kind":
                continue  # a shared package (calendar/, services/), not a kind
            raise
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, ConnectorKind)
                and value is not ConnectorKind
                and value.__module__ == module.__name__
            ):
                found[value.slug] = value()
    return dict(sorted(found.items(), key=lambda item: item[1].name))


def kind_get(slug: str) -> ConnectorKind:
    """The kind named by a URL or a row; 404 for an unknown slug."""
    kind = kinds().get(slug)
    if kind is None:
        raise Http404(f"No connector kind {slug!r}.")
    return kind
