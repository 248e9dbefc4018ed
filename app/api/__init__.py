"""HTTP handlers beyond the order-record operations, one module per concern."""
