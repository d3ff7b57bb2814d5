"""upskill-operator: the Upskill platform's AWS data layer as Kubernetes resources."""

__all__ = ["__version__"]

__version__ = "0.1.0"
