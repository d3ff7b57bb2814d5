"""UpskillTable: the DynamoDB table, its plan, and the keys of its connection ConfigMap."""
