"""Call tasks: the ``call`` action kind's records and the outcomes people report."""
