"""Reading paths we do not control: regular files only, and no more bytes than allowed.

A path in the corpus or in the index folder can be whatever an operator or an unpacked
archive left there. Opening a named pipe to read waits for a writer forever; a link to
``/dev/zero`` never ends; a two-gigabyte sidecar where a few hundred bytes were expected
fills memory. Every read here opens without blocking, looks at what the open descriptor
is (so a file swapped for a pipe between a check and the open cannot slip through), and
refuses anything but a regular file, or more bytes than the caller allows.

Example::

    data = read_bounded(path, 4096)  # FileRefused (an OSError) if a pipe, a device or too big
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class FileRefused(OSError):
    """The path is not a regular file, or is larger than allowed; ``strerror`` says which."""


def kind_of(mode: int) -> str:
    """What a file of ``st_mode`` is, in words ("a named pipe (FIFO)", "a socket", ...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for binary reading, or FileRefused if it is not a regular file.

    O_NONBLOCK makes opening a pipe return at once instead of waiting for a writer; it
    changes nothing for a regular file.
    """
    descriptor = os.open(path, _READ_FLAGS)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused(errno.EINVAL, f"{kind_of(mode)}, not a regular file", str(path))
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_bounded(path: Path, limit: int) -> bytes:
    """Every byte of the regular file ``path``, or FileRefused if it holds more than ``limit``
    (checked before reading, and again while reading in case it grows)."""
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        data = handle.read(limit + 1) if size <= limit else b""
    if size > limit or len(data) > limit:
        shown = max(size, len(data))
        raise FileRefused(
            errno.EFBIG, f"{shown:,} bytes, over the limit of {limit:,} bytes", str(path)
        )
    return data


def sha256_of(handle: BinaryIO, digest: hashlib._Hash | None = None) -> hashlib._Hash:
    """``digest`` (a new SHA-256 if None) updated with the rest of ``handle``, in 4 MB blocks
    so that memory stays flat whatever the size."""
    digest = digest or hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 22), b""):
        digest.update(block)
    return digest
