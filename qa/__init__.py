"""qa: ask questions of a folder of official documents and get passages cited to document, section and paragraph."""

__version__ = "0.1.0"
