"""HTTP routes, one module per area: pages, battle API, leaderboard, assets."""
