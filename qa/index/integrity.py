"""What a file of the index must be (size and SHA-256), and the check that it still is.

The index store records every file of a version this way, and the exported query encoder
records itself beside its file; both are checked with :func:`file_problem` before use.

Hashing every byte of a million-passage index at each load takes longer than the load, so
above FULL_HASH_BYTES a load hashes evenly spread samples, which catch a file replaced,
cut or rewritten but not one byte flipped between two samples; ``full=True`` (what
``qa index --verify`` asks for) reads every byte.

Example::

    record = file_record(path)
    problem = file_problem(path, record, full=False)  # None, or "is missing or truncated", ...
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.filesystem import open_regular, sha256_of

FULL_HASH_BYTES = 64 << 20
SAMPLE_BLOCKS = 64
SAMPLE_BLOCK_BYTES = 1 << 16
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileRecord:
    """A file's size and SHA-256; above FULL_HASH_BYTES also the hash of its samples."""

    bytes: int
    sha256: str
    sampled_sha256: str | None = None

    def as_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"bytes": self.bytes, "sha256": self.sha256}
        if self.sampled_sha256 is not None:
            record["sampled_sha256"] = self.sampled_sha256
        return record


def _sampled_sha256(handle: Any, size: int) -> str:
    """The hash of SAMPLE_BLOCKS blocks spread evenly over the file, first and last included."""
    digest = hashlib.sha256(str(size).encode())
    last = max(size - SAMPLE_BLOCK_BYTES, 0)
    for number in range(SAMPLE_BLOCKS):
        handle.seek(last * number // (SAMPLE_BLOCKS - 1))
        digest.update(handle.read(SAMPLE_BLOCK_BYTES))
    return digest.hexdigest()


def file_record(path: Path, always_full: bool = False) -> FileRecord:
    """The record of ``path`` as it is now; ``always_full`` records no samples, so that every
    check of the file reads all of it (for a file whose every byte matters to every answer)."""
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        full = sha256_of(handle).hexdigest()
        sampled = None
        if size > FULL_HASH_BYTES and not always_full:
            sampled = _sampled_sha256(handle, size)
    return FileRecord(size, full, sampled)


def file_problem(path: Path, expected: FileRecord, full: bool) -> str | None:
    """What is wrong with ``path`` against ``expected``, as words that follow its name
    ("is missing or truncated", "was altered"), or None if it matches.

    Only regular files are opened (a pipe put in place of an index file would block a
    reader forever); with ``full`` every byte is hashed even if ``expected`` has samples.
    """
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size != expected.bytes:
                return "is missing or truncated"
            if full or expected.sampled_sha256 is None:
                intact = sha256_of(handle).hexdigest() == expected.sha256
            else:
                intact = _sampled_sha256(handle, size) == expected.sampled_sha256
    except FileNotFoundError:
        return "is missing or truncated"
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    return None if intact else "was altered"
