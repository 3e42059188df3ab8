"""Scene layer of the tester: the stepping runner and sample data on real MRML nodes (no qt)."""
