"""Operational scripts for the Order Records service."""
