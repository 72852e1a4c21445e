"""The thin front ends over the library: CLI, Datasette browsing, text rendering."""
