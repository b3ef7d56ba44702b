"""The GraphQL schema: one module per area, composed in ``schema.py``."""
