"""Stage 5: gold files, scoring, eval runs and reviewer reports."""
