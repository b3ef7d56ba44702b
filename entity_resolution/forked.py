"""Splitting bulk work across forked processes.

Preparing and scoring a million records is pure Python, so one process uses one core.
Children made by ``fork`` see the parent's records and indexes as they are (nothing is
pickled on the way in); each works on a contiguous slice and sends its result back pickled.
The parent works on the first slice meanwhile, so two workers keep both cores busy.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from entity_resolution.errors import EntityResolutionError

T = TypeVar("T")


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def split_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous slices [lo, hi) covering range(n), sizes differing by at most 1."""
    edges = [n * k // parts for k in range(parts + 1)]
    return list(itertools.pairwise(edges))


def _child(
    work: Callable[[int, int], Any], pack: Callable[[Any], Any], lo: int, hi: int,
    conn: Connection,
) -> None:
    try:
        payload = pickle.dumps((True, pack(work(lo, hi))), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:  # the parent raises it (as it is when it pickles)
        try:
            payload = pickle.dumps((False, e))
        except Exception:
            payload = pickle.dumps((False, EntityResolutionError(f"{type(e).__name__}: {e}")))
    conn.send_bytes(payload)
    conn.close()
    # Leave at once: no atexit handlers and no flush of stdio buffers whose locks a thread of
    # the parent (a progress bar) may have held at the fork.
    os._exit(0)


def _as_is(value: Any, *_slice: int) -> Any:
    return value


def run_split(
    work: Callable[[int, int], T],
    n: int,
    workers: int,
    *,
    pack: Callable[[T], Any] = _as_is,
    unpack: Callable[[Any, int, int], T] = _as_is,
) -> list[T]:
    """``work(lo, hi)`` over ``workers`` slices of range(n), the first in this process;
    results in slice order. One worker (or no fork on this platform) runs it inline.

    A child's result travels as ``pack(result)`` and is rebuilt by ``unpack(packed, lo, hi)``:
    a compact form (tuples rather than objects) is much cheaper to pickle.
    """
    if workers <= 1 or n < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [work(0, n)]
    fork = multiprocessing.get_context("fork")
    slices = split_bounds(n, workers)
    children = []
    for lo, hi in slices[1:]:
        receive, send = fork.Pipe(duplex=False)
        child = fork.Process(target=_child, args=(work, pack, lo, hi, send), daemon=True)
        child.start()
        send.close()
        children.append((child, receive, lo, hi))
    try:
        results = [work(*slices[0])]
        for child, receive, lo, hi in children:
            try:
                ok, value = pickle.loads(receive.recv_bytes())
            except EOFError:
                ok, value = False, EntityResolutionError(
                    f"the worker for items {lo:,}..{hi:,} ended without a result"
                )
            child.join()
            if not ok:
                raise value
            results.append(unpack(value, lo, hi))
    finally:
        for child, receive, _, _ in children:
            if child.is_alive():  # this process failed first: the child's work is moot
                child.terminate()
            child.join()
            receive.close()
    return results
