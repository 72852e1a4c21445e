"""`summarizer serve`: the HTTP interface, thin over the library the CLI uses.

`app` builds the FastAPI application, `routes` holds the endpoints, `deps` the
shared state and the token check, `intake` accepts a submission, `jobs` the
SQLite queue and its worker (no FastAPI there), `metrics` the Prometheus metrics.
"""
