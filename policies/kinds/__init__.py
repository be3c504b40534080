"""Action kinds, one module each; see ``README.md`` in this folder for how to add one."""
