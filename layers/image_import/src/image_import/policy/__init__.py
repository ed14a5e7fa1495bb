"""Who may do what to an image: visibility, ownership, and import preconditions."""
