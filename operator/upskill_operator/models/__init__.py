"""Pydantic models of the three custom resources."""
