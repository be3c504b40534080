"""Running syncd: one full cycle (run-once) or forever on a schedule (run)."""
