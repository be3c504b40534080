"""The later rungs of the recovery ladder: demand letters, the hand-off case file and the
customer's record (one timeline of everything syncd knows and did)."""
