"""Remove files through fsspec (local paths and ``s3://`` alike), after commit.

A batch records the files of the rows it deleted in its own transaction; once
it has committed, :func:`remove` deletes them and the caller records each
outcome. ``already_gone`` (a rerun after a crash) is fine; ``failed`` is kept
with its error class, retried by the next run, and makes the run or request
not verified: a file is never skipped silently.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

REMOVED = "removed"
ALREADY_GONE = "already_gone"
FAILED = "failed"
DONE_OUTCOMES = (REMOVED, ALREADY_GONE)
WORKERS = 8  # removing a file is I/O wait (a round trip on S3): a few at a time


def remove_one(path: str) -> tuple[str, str | None]:
    """Remove one file by path or fsspec URL: (outcome, error class or None)."""
    import fsspec

    try:
        filesystem, local = fsspec.core.url_to_fs(path)
        filesystem.rm(local)
    except FileNotFoundError:
        return ALREADY_GONE, None
    except Exception as exc:  # any failure is recorded, never raised past the batch
        return FAILED, type(exc).__name__
    return REMOVED, None


def remove(paths: list[str]) -> list[tuple[str, str, str | None]]:
    """Remove ``paths``; (path, outcome, error) for each, in the given order."""
    if not paths:
        return []
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(paths))) as pool:
        results = list(pool.map(remove_one, paths))
    return [(path, outcome, error) for path, (outcome, error) in zip(paths, results, strict=True)]


def exists(path: str) -> bool:
    """Is the file still there (path or fsspec URL)? Unreachable storage counts as there."""
    import fsspec

    try:
        filesystem, local = fsspec.core.url_to_fs(path)
        return bool(filesystem.exists(local))
    except Exception:  # cannot prove it is gone
        return True
