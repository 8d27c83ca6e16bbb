"""Search backends: what ranks an index version's rows for the retrieval stage.

A version is searched by its own files (:mod:`qa.backends.embedded`, the default) or by a
Milvus collection made for it (:mod:`qa.backends.milvus`); either way row *i* is chunk *i*
of the version, so every stage after retrieval is the same. The interface is in
:mod:`qa.backends.base`; :func:`qa.backends.loading.load_version` loads a version with the
backend the settings choose.

Example::

    snapshot = load_version(settings, spec)
    rows, scores = snapshot.search.dense(query_vector, k=100, scope=Filters(year_from=2020))
"""
