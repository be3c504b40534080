"""The action outbox: executing planned actions exactly once."""
