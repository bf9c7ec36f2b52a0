"""Questions asked of a whole board: how fragile each rank is, how far two boards disagree,
and how well the models can be told apart by their answers. Built on `ratings/` and the
battle table; no I/O beyond what a caller hands in."""
