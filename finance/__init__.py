"""Supply-chain finance on the graph: ledger, credit lines, products, life cycle, vouchers."""
