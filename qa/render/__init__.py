"""Pure renderings of answers and records: JSON, terminal text, exports, HTML."""
