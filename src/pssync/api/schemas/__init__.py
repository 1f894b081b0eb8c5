"""Request and response models of the REST API (OpenAPI is generated from these)."""
