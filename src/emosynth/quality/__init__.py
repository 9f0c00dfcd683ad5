"""Dataset quality measures."""
