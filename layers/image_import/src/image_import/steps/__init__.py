"""The import's steps: each with its execute and its revert side by side, in one chain (chain.py build_chain)."""
