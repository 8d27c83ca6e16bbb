"""Features that read documents' content and plug into the question path: time, recommendations."""
