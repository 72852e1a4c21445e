"""Benchmarks and the scripted OpenAI-compatible server; never imported by the runtime path."""
