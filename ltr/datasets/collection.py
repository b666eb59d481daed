"""Moved to :mod:`ltr.collection` (the core floor); this module re-exports it so existing imports keep working."""

from ltr.collection import Collection, LINK_SOURCE, LINK_TARGET, TIMESTAMP, URL  # noqa: F401
