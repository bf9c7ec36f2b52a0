"""glassarena: blind side-by-side model battles and an honest Bradley-Terry leaderboard."""

__version__ = "0.1.0"
