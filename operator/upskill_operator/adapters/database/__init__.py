"""UpskillDatabase: the network, the Aurora cluster and instances, the RDS Proxy and what they share."""
