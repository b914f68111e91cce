"""One module per part of the benchmark; each `run()` returns a JSON-able dict for the report."""
