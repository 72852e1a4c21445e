"""Stage 2: outline, measures, duties, targets and plan header read by rules."""
