"""Latency probes: the sliding window and verdict, the PostgreSQL and DynamoDB probers, and which a resource gets."""
