"""``syncd demo``: both sandboxes, a local mail catcher and the real daemon cycle on a fast
clock, so that a new user sees in two minutes what syncd does over two months."""
