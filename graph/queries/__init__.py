"""Named, parameterised Cypher queries, one module per area."""
