"""ChainLens: the cross-cutting base shared by every package (settings, logging, state folder)."""
