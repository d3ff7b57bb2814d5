"""What several kinds share: names, cadenced reads, read-only steps, the connection ConfigMap, the KMS key check."""
