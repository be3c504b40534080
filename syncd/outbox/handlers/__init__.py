"""Executor handlers, one module per action kind; see ``policies/kinds/README.md``."""
