"""The Documents page: what the index holds, whether it is current, and the upload form.

A page script: Streamlit runs it (``st.Page``) after the frame in ``app.py``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile

from qa.app.components import (
    StreamlitProgress,
    build_slot,
    corpus_changes,
    forget_corpus_changes,
    format_built,
    plain,
    shared_frame,
)
from qa.corpus import SUFFIXES
from qa.index.embedders import Embedder, ModelError, load_embedder
from qa.index.problems import IndexProblem
from qa.render.html import documents_html, format_label, format_size
from qa.search import Searcher
from qa.settings import BUNDLED_MODEL, Settings
from qa.types import display_date
from qa.uploads import (
    UploadError,
    UploadExists,
    list_documents,
    save_upload,
    skipped_documents,
    upload_cap_mib,
    upload_cap_problem,
)


def upload_files(
    settings: Settings, searcher: Searcher, files: list[Any], replace: bool
) -> list[tuple[str, str]]:
    """Add uploaded files to the corpus; one (level, message) per file, level success|error|info.

    Each file is validated before anything is written, so a bad file is reported and
    changes nothing; good files are indexed incrementally and the shared searcher moves
    to the new index version.
    """
    messages: list[tuple[str, str]] = []

    def embedder() -> Embedder:
        with st.spinner("Loading the embedding model…"):
            return load_embedder(settings.model, settings.batch_size)

    for file in files:
        name = file.name
        try:
            with build_slot():
                result = save_upload(
                    settings, name, file, embedder, overwrite=replace, progress=StreamlitProgress
                )
            messages.append(("success" if result.report else "info", result.message))
        except UploadExists as error:
            messages.append(
                (
                    "error",
                    f"{error}. Tick “Replace documents with the same name” "
                    "and add it again to replace it.",
                )
            )
        except UploadError as error:
            messages.append(("error", str(error)))
        except (ModelError, IndexProblem, OSError) as error:
            messages.append(("error", f"{name} could not be indexed: {error}"))
        finally:
            forget_upload(file)
    searcher.refresh()
    forget_corpus_changes()
    return messages


def forget_upload(file: UploadedFile) -> None:
    """Drop Streamlit's copy of an upload once it is handled. Streamlit keeps every upload in
    memory until the session ends: five of 200 MB held 1 GB of the server's memory."""
    context = get_script_run_ctx()
    if context is not None and isinstance(context.uploaded_file_mgr, MemoryUploadedFileManager):
        context.uploaded_file_mgr.remove_file(context.session_id, file.file_id)
    file.close()


def show_index(searcher: Searcher, settings: Settings) -> None:
    """How the index was built and whether it is current with the corpus folder."""
    manifest = searcher.snapshot.manifest
    model = manifest.spec.model
    model = "all-MiniLM-L6-v2 (bundled)" if model == BUNDLED_MODEL else model
    st.subheader("Index")
    st.markdown(
        plain(
            f"{manifest.documents} documents, {manifest.chunks} passages · built "
            f"{format_built(manifest.created_at)} · embedding model {model}"
        )
    )
    changes = corpus_changes(searcher)
    if changes is None:
        st.warning(plain(f"The corpus folder {settings.corpus} cannot be read."))
    elif changes.any:
        st.warning(plain(f"Out of date: the corpus folder changed ({changes.describe()})."))
    else:
        st.success("Up to date with the corpus folder.", icon=":material/check_circle:")


def show_documents(searcher: Searcher, settings: Settings) -> None:
    """The documents as a table, or on a narrow screen as a list (style.css shows one), each
    with whom it is about and what it is, read from its text: with many councils in one
    corpus, a reader needs both to judge a source."""
    st.subheader("Documents")
    documents = list_documents(searcher.snapshot, settings.corpus)
    rows = [
        {
            "Title": info.title,
            "Organisation": info.organisation or "not stated",
            "Kind": info.kind.value.capitalize(),
            "Date": display_date(info.date),
            "Format": format_label(info.format),
            "Size": format_size(info.size_bytes),
            "Passages": info.chunks,
            "File": info.source,
        }
        for info in documents
    ]
    with st.container(key="documents-wide"):
        st.dataframe(
            rows,
            hide_index=True,
            width="stretch",
            key="document-list",
            column_config={
                "Title": st.column_config.TextColumn(width=280),
                "Organisation": st.column_config.TextColumn(width=165),
                "Kind": st.column_config.TextColumn(width=125),
                "Date": st.column_config.TextColumn(width=120),
                "Format": st.column_config.TextColumn(width=70),
                "Size": st.column_config.TextColumn(width=65),
                "Passages": st.column_config.NumberColumn(width=75),
                "File": st.column_config.TextColumn(),
            },
        )
    with st.container(key="documents-narrow"):
        st.html(documents_html(documents))
    skipped = skipped_documents(searcher.snapshot)
    if skipped:
        st.caption("Files in the corpus folder that could not be read:")
        st.dataframe([{"File": s, "Reason": r} for s, r in skipped.items()], hide_index=True)


def upload_form(searcher: Searcher, settings: Settings) -> None:
    """The form adding documents to the corpus, and the outcome of the last upload."""
    st.subheader("Add a document")
    for level, message in st.session_state.pop("upload_messages", []):
        getattr(st, level)(plain(message))
    problem = upload_cap_problem(settings.max_file_mb, st.get_option("server.maxUploadSize"))
    if problem:
        st.warning(plain(problem))
    generation = st.session_state.setdefault("upload_generation", 0)
    with st.form("upload", border=True):
        files = st.file_uploader(
            "Report, letter or minutes",
            type=[suffix.lstrip(".") for suffix in SUFFIXES],
            accept_multiple_files=True,
            key=f"upload-{generation}",
            max_upload_size=upload_cap_mib(settings.max_file_mb),
            help=f"Up to {settings.max_file_mb:g} MB each. The file is checked before it is added.",
        )
        replace = st.checkbox("Replace documents with the same name", key="replace")
        submitted = st.form_submit_button(
            "Add to the corpus", type="primary", icon=":material/upload_file:"
        )
    if submitted:
        if not files:
            st.session_state["upload_messages"] = [("warning", "Choose a file to add first.")]
        else:
            st.session_state["upload_messages"] = upload_files(settings, searcher, files, replace)
            st.session_state["upload_generation"] = generation + 1
        st.rerun()


def documents_page(searcher: Searcher, settings: Settings) -> None:
    show_index(searcher, settings)
    show_documents(searcher, settings)
    upload_form(searcher, settings)


if __name__ == "__main__":
    frame = shared_frame()
    documents_page(frame.searcher, frame.settings)
