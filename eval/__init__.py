"""Retrieval evaluation over the report question set."""
