"""Parser evaluation: real documents with hand-written truth, scored the way a new user would meet them."""
