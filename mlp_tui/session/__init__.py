"""Sessions: the contract (base) and its kinds (live, replay)."""
