"""Search (`searchOrderRecord`): the payload, the query it becomes, cursors and the handler."""
