"""numba on first use: the statistics' loops compiled when they are first called, never at import.

Importing numba costs about a second, and most statistics never need it; without numba installed the
callers fall back to their numpy references.
"""

from __future__ import annotations

import functools


@functools.cache
def compiled(loop):
    """``loop`` compiled by numba (no GIL, cached on disk next to its module), or None without numba."""
    try:
        from numba import njit
    except ImportError:  # pragma: no cover - exercised only without numba
        return None
    return njit(cache=True, nogil=True)(loop)
