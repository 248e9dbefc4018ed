"""Marshmallow schemas: the one definition of every input rule, also the source of the OpenAPI document; and
the generated fast path that loads by the same rules."""
