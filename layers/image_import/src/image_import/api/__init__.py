"""The Images API v2 over API Gateway (REST, Lambda proxy): routes, request parsing, Glance's error format."""
