"""Speed and memory benchmarks: generated corpora at scale, one question on the shipped corpus."""
