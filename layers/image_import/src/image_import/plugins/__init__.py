"""Import plugins: the contract, the registry (entry points, configured order) and the built-ins."""
