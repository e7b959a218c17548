"""The `planact` command line."""
