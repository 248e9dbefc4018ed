"""The OpenAPI document: built from the marshmallow schemas and the routes, served with an offline Swagger UI."""
