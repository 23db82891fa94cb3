"""Recipe search (`textclf search`): the Optuna study whose trials are DVC experiments, its
search space, the trials' heartbeats and pruning, and the leaderboard. Imports `config`, `data`,
`evaluate` and `train`."""
