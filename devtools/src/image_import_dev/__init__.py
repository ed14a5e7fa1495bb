"""Development and operator tooling: the local stack, the renderer, CLIs. Never shipped in the Lambda layer."""
