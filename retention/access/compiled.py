"""What every compiled (numba) kernel of ``retention.access`` shares: how it is compiled and how
many threads it may use.

Kernels are compiled with ``nogil`` so that threads run them side by side, and cached in
``__pycache__`` (numba ``cache=True``) so that a new process loads them instead of compiling;
where no cache directory can be written (a read-only install without a writable home), they are
compiled in each process instead (a second or two per kernel).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

from retention.errors import ParameterError

_Function = TypeVar("_Function", bound=Callable[..., Any])

THREADS_VARIABLE = "PARKLIFE_SEARCH_THREADS"
"""Environment variable naming how many threads the kernels may use (default: every CPU)."""


def compiled(function: _Function) -> _Function:
    """``numba.njit(nogil=True, cache=True)``, or without the cache where none can be written."""
    try:
        dispatcher: Any = numba.njit(nogil=True, cache=True)(function)
    except RuntimeError as error:
        if "cannot cache" not in str(error):
            raise
        dispatcher = numba.njit(nogil=True)(function)
    return cast(_Function, dispatcher)


def kernel_threads() -> int:
    """Threads a compiled kernel may use: ``PARKLIFE_SEARCH_THREADS``, by default every CPU this
    process may run on."""
    text = os.environ.get(THREADS_VARIABLE, "").strip()
    if not text:
        return max(1, len(os.sched_getaffinity(0)))
    if not text.isdigit() or int(text) < 1:
        raise ParameterError(
            f"{THREADS_VARIABLE}={text!r} is not a whole number of at least 1",
            column=THREADS_VARIABLE,
        )
    return int(text)
