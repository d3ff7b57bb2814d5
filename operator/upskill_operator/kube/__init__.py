"""A small façade over the Kubernetes API for the objects the operator writes besides its own resources."""
