"""Typed boto3 façades: the only package that imports boto3."""
