"""Reading documents where a runaway reader can be stopped: in a child process with a memory
limit, and a deadline for each file.

The readers stop at the limits they can count while parsing (pages, characters, elements:
:class:`~qa.corpus.structure.ReadLimits`). What no count foresees, a library's work between
two counts (PDFium inflating a page's streams, a parser's worst case, a loop), could still
hold a build for hours or take the machine's memory. In the child, an allocation over
``max_read_memory_mb`` fails (``RLIMIT_AS``), and a file not read within
``max_read_seconds`` has its reader killed. Either way that file gets a DocumentError
saying so, the next file a fresh child, and every other document is read.

Only PDF, DOCX and HTML go to the child: their cost is not bounded by their size (a 3 MB
DOCX held 390 MB of XML, a 10 kB PDF five million characters). Plain text and Markdown are
decoded here, in time and memory bounded by the file's size, with nothing to gain from the
child. One child serves a whole build, started at the first file that needs it: on the 17
Ofsted reports it costs 0.5 s more than reading in process (5.5 s against 5.1 s), where a new
child for each file took 13.8 s (RELIABILITY.md, section 3).

Example::

    with DocumentReader(settings.read_limits) as reader:
        document = reader.read(file)  # a Document, or DocumentError saying why not
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType

from qa.corpus import CorpusFile, read_document
from qa.corpus.readers import SUFFIXES
from qa.corpus.structure import DocumentError, ReadLimits
from qa.types import Document

ISOLATED = frozenset({"pdf", "docx", "html"})
"""Formats read in the child: those whose cost the file's size does not bound."""

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_STOP_SECONDS = 5
# The child imports the readers' libraries (0.5 s here) before it is ready.
_START_SECONDS = 60


class DocumentReader:
    """Reads files into Documents within ``limits``; PDF, DOCX and HTML in a child process that
    is killed when it overruns them. Use it as a context manager, which ends the child.
    """

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self._child: _Child | None = None

    def read(self, file: CorpusFile) -> Document:
        """The document in ``file``, or DocumentError saying why it cannot be read."""
        if SUFFIXES.get(file.path.suffix.lower()) not in ISOLATED:
            return read_document(file, self.limits)
        if self._child is None or not self._child.alive:
            self._child = _Child(self.limits.max_memory_bytes)
        return self._child.read(file, self.limits)

    def close(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None

    def __enter__(self) -> DocumentReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Child:
    """One reading process (:func:`serve`) and the pipes to it: a request is a pickled
    (CorpusFile, ReadLimits), a reply a Document or a DocumentError and whether the child
    then ends."""

    def __init__(self, memory_bytes: int) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        environment = os.environ | {
            # The same qa as this process, even when it was imported from a working copy.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")])
            ),
            # numpy's BLAS threads each reserve address space the limit would count.
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from qa.corpus.worker import serve; serve()",
                    str(memory_bytes),
                ],
                stdin=request_read,
                stdout=reply_write,
                env=environment,
                # Not in the terminal's process group: Ctrl-C stops the build, which ends
                # the child by closing its pipe, rather than a reader mid-file.
                start_new_session=True,
            )
        finally:
            os.close(request_read)
            os.close(reply_write)
        self._requests = Connection(request_write, readable=False)
        self._replies = Connection(reply_read, writable=False)
        self._memory_mb = memory_bytes / 1e6
        try:  # the child says when it is ready, so that no file's deadline counts its start
            if not self._replies.poll(_START_SECONDS):
                raise EOFError
            self._replies.recv()
        except (EOFError, OSError):
            self.stop(at_once=True)
            raise DocumentError(
                f"the reader process did not start within {_START_SECONDS} s"
                f" ({self._how_it_ended()})"
            ) from None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def read(self, file: CorpusFile, limits: ReadLimits) -> Document:
        try:
            self._requests.send((file, limits))
            if not self._replies.poll(limits.max_seconds):
                self.stop(at_once=True)
                raise DocumentError(
                    f"reading took more than {limits.max_seconds:g} s and was stopped"
                    " (setting max_read_seconds)"
                )
            reply: tuple[Document | DocumentError, bool] = self._replies.recv()
        except (EOFError, OSError):
            self.stop(at_once=True)
            raise DocumentError(self._ended()) from None
        outcome, ending = reply
        if ending:
            self.stop()
        if isinstance(outcome, DocumentError):
            raise outcome
        return outcome

    def _ended(self) -> str:
        """Why the child ended in the middle of a file, for the user."""
        if self.process.returncode >= 0:
            return f"the reader ended abruptly ({self._how_it_ended()})"
        return (
            f"the reader ended abruptly ({self._how_it_ended()}), as a library does when it"
            f" needs more than the {self._memory_mb:,.0f} MB of memory allowed"
            " (setting max_read_memory_mb)"
        )

    def _how_it_ended(self) -> str:
        code = self.process.returncode
        return signal.Signals(-code).name if code < 0 else f"exit status {code}"

    def stop(self, at_once: bool = False) -> None:
        """End the child: at once (it overran a limit), or by closing its pipe and waiting
        for it to finish the loop."""
        if at_once:
            self.process.kill()
        self._requests.close()
        try:
            self.process.wait(_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._replies.close()


def serve() -> None:
    """The child: read each requested file until the pipe closes, in no more memory than
    the bytes its command line states.

    The readers' libraries are imported before the limit is set, so that it bounds reading
    alone. After a MemoryError the child replies and ends: a library may have been left
    half-way, and the next file gets a fresh process. A child whose parent is killed
    finishes the file it is reading, finds its pipe closed and ends.
    """
    import resource

    for library in ("bs4", "docx", "lxml.etree", "pypdfium2"):
        importlib.import_module(library)
    memory_bytes = int(sys.argv[1])
    requests = Connection(0, writable=False)
    replies = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # what a library prints goes to stderr, never into the replies
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    replies.send(None)  # ready
    while True:
        try:
            file, limits = requests.recv()
        except EOFError:
            return
        reply: Document | DocumentError
        try:
            reply = read_document(file, limits)
        except DocumentError as error:
            reply = error
        except MemoryError:
            message = (
                f"reading needs more than the {memory_bytes / 1e6:,.0f} MB of memory"
                " allowed (setting max_read_memory_mb)"
            )
            replies.send((DocumentError(message), True))
            return
        except Exception as error:  # a reader's bug: this file is reported, the rest read
            reply = DocumentError(f"the reader failed ({type(error).__name__}: {error})")
        replies.send((reply, False))
