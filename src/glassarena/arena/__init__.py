"""The arena's application logic: battles, blinding, votes and what counts, rate limits,
and the leaderboards kept up to date in the background. `bootstrap.build_arena` wires it."""
