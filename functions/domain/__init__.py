"""Plain domain code the handlers adapt: no Lambda event shapes in here."""
