"""Image lifecycle and import orchestration. Import steps change images only through ImageActions."""
