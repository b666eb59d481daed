"""Moved to :mod:`ltr.atomic` (the core floor); this module re-exports it so existing imports keep working."""

from ltr.atomic import atomic_write, sha256_file, write_json  # noqa: F401
