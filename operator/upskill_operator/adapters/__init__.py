"""One adapter per managed object kind; each implements reconcile.protocol.Adapter."""
