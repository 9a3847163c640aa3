"""One module per part of the mathematics of DESIGN §5; each exposes ``add_to(m, data)``."""
