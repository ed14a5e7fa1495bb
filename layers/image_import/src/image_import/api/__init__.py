"""The Images API v2 over API Gateway (REST, Lambda proxy).

``app`` the resolver: Glance's routing rules, domain errors in Glance's format (``errors``), the routers;
``requests`` reading the request; ``views`` Glance's response shapes; ``routes`` one Router per resource.
"""
