"""What can be wrong with an index, as exceptions whose message is one sentence saying what to run.

Kept apart from :mod:`qa.index.store`, which raises most of them, so that the modules the
store itself imports (the tables, the BM25 index) can raise them too when a search reads
damage that a load did not see. The store re-exports them: ``from qa.index.store import
IndexProblem`` is where the rest of qa takes them from.
"""

from __future__ import annotations


class IndexProblem(RuntimeError):
    """Base for index problems; the message is one sentence that says what to run."""


class IndexMissing(IndexProblem):
    """There is no index yet: `qa index` builds one."""


class IndexIncompatible(IndexProblem):
    """The index was built with other settings or by another format version."""


class IndexCorrupt(IndexProblem):
    """A file of the index, its pointer or its manifest is missing, damaged or altered."""


class IndexUnwritable(IndexProblem):
    """The index folder cannot be written (read-only, not permitted, or the disk is full);
    the previous version is still live."""
