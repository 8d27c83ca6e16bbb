"""Judgements: the grades documents state, as records, across documents and dates."""
