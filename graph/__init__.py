"""The graph layer: the only package that speaks Cypher.

It owns the Neo4j driver, the managed local server, the schema, the named queries and the
analytics that run on the graph. Other packages call functions here and never build Cypher.
"""
