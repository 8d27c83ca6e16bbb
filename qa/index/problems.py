"""What can be wrong with an index: exceptions carrying one sentence of what is wrong
(``reason``) and the command that mends it (``fix``).

Kept apart from :mod:`qa.index.store` and :mod:`qa.index.writer`, which raise most of them,
so that the modules they import (the tables, the BM25 index) can raise them too when a
search reads damage that a load did not see; the rest of qa takes them from here.
"""

from __future__ import annotations


class IndexProblem(RuntimeError):
    """Base for index problems: ``reason`` says what is wrong and ``fix`` the command that
    mends it (None when no command can: a read-only folder, a full disk), so a caller can
    show either without taking the message apart."""

    def __init__(self, reason: str, fix: str | None = "qa index --rebuild") -> None:
        super().__init__(f"{reason}; run `{fix}`" if fix else reason)
        self.reason = reason
        self.fix = fix

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as its reason and fix (a build in a worker process raises it to its
        parent), so the message is not composed twice."""
        return (_restore, (type(self), self.reason, self.fix))


def _restore(kind: type[IndexProblem], reason: str, fix: str | None) -> IndexProblem:
    problem = kind.__new__(kind)
    IndexProblem.__init__(problem, reason, fix)
    return problem


class IndexMissing(IndexProblem):
    """There is no index yet: `qa index` builds one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, fix="qa index")


class IndexIncompatible(IndexProblem):
    """The index was built with other settings or by another format version."""


class IndexOutdated(IndexIncompatible):
    """Another version of qa wrote the index in a format this one cannot read."""


class IndexCorrupt(IndexProblem):
    """A file of the index, its pointer or its manifest is missing, damaged or altered."""


class IndexUnwritable(IndexProblem):
    """The index folder cannot be written (read-only, not permitted, or the disk is full);
    the previous version is still live. The reason says what the user can do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, fix=None)


class SearchUnavailable(IndexProblem):
    """The search engine the settings name cannot be reached (a Milvus server down, a Milvus
    Lite file open in another process); the index itself may be fine, so no rebuild mends it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, fix=None)
