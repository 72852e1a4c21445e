"""Stage 1: read files in every supported format and clean the text."""
