"""The HTTP layer: a handler module per resource, list pages, bearer tokens, the error shape, strict JSON bodies."""
