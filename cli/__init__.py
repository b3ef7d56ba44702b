"""The `chainlens` console script: the composition root that wires settings, driver and packages."""
