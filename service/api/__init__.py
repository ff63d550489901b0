"""The HTTP layer: routes, dependencies, response schemas and the one error-to-status table."""
