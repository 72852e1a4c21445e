"""Stage 4: the SQLite results database, exports and derived unit tables."""
