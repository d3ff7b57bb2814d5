"""Build-time generators: the CRDs from the models, the IAM policy and permissions boundary from the façades."""
