"""c2 stage."""
