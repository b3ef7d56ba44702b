"""Documents: business licences and VAT invoices read by OCR, their fields extracted by layout
rules, and checked against the graph (docs/documents.md).

Dependencies point inward: `api` calls this package, this package calls `graph` (whose
`graph/queries/documents.py` holds the Cypher) and `entity_resolution.uscc` for the USCC
check character.
"""
