"""Point layers on the grids (buildings, households, appeals) and the work done on them."""
