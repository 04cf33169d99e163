"""Peer for `codeii bench sweep`: scikit-learn's RandomizedSearchCV over HistGradientBoostingClassifier on the same
training and validation rows, scored by validation AUROC. Prints one JSON line: each candidate's fit and score time
and validation AUROC in the order they ran, and the search's wall time. Benchmark peer only; never used by the product."""
import json
import sys
import time

import numpy as np
from scipy.stats import loguniform, randint
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import PredefinedSplit, RandomizedSearchCV

data, n_train, n_val, n_features, n_iter, seed = sys.argv[1], *map(int, sys.argv[2:7])
values = np.fromfile(data, dtype=np.float32)
rows = n_train + n_val
X = values[: rows * n_features].reshape(rows, n_features)
y = values[rows * n_features:].astype(np.int32)
fold = np.concatenate([np.full(n_train, -1), np.zeros(n_val, dtype=int)])  # train on the first rows, score on the rest

# The same ranges as our LightGBM space (docs/sweep.md), in HistGradientBoosting's names; Debian 12's scikit-learn
# (1.2) has no feature subsampling (max_features came in 1.4).
space = {
    "max_iter": randint(4, 1001),
    "max_leaf_nodes": randint(4, 257),
    "learning_rate": loguniform(0.01, 1),
    "min_samples_leaf": randint(2, 101),
    "l2_regularization": loguniform(1e-3, 10),
}
search = RandomizedSearchCV(HistGradientBoostingClassifier(random_state=seed), space, n_iter=n_iter, scoring="roc_auc",
                            cv=PredefinedSplit(fold), refit=False, n_jobs=1, random_state=seed)
start = time.perf_counter()
search.fit(X, y)
wall = time.perf_counter() - start
r = search.cv_results_
print(json.dumps({
    "wall_s": wall,
    "fit_s": [float(v) for v in r["mean_fit_time"]],
    "score_s": [float(v) for v in r["mean_score_time"]],
    "auroc": [float(v) for v in r["split0_test_score"]],
}))
