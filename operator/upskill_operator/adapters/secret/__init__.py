"""UpskillSecret: the value source, the Secrets Manager secret, rotation, and the Kubernetes Secret apps read."""
