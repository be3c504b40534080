"""The ``syncd`` command line."""
