"""The question path as named stages: understand → retrieve → select → assemble → answer."""
