"""Speed and memory benchmarks on generated corpora."""
