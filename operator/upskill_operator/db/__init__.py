"""PostgreSQL: the migration runner and latency probes."""
