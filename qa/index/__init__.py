"""Index: lexical and dense indexes, embedders, the versioned store and the build."""
