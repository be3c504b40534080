"""The dunning cycle on syncd's side: store rows → policy snapshots → plans (and, later, the
outbox). The decisions themselves are the pure policy engine's (``policies``)."""
