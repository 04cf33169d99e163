"""Peer for `codeii bench sweep --peers sklearn`: scikit-learn's RandomizedSearchCV over HistGradientBoostingClassifier
on the same training and validation rows as ours, scored by validation AUROC; its best candidate is then refitted on the
training rows and scores the test rows once. Prints one JSON line in the form of optuna_sweep.py: each candidate's
finishing time (the running sum of fit and score times) and validation AUROC in the order they ran, the search's wall
time, the best parameters and their test AUROC. Benchmark peer only; never used by the product.

Usage: sklearn_sweep.py MATRIX N_TRAIN N_VAL N_TEST N_FEATURES N_ITER SEED"""
import json
import sys
import time

import numpy as np
from scipy.stats import loguniform, randint
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import PredefinedSplit, RandomizedSearchCV

data, n_train, n_val, n_test, n_features, n_iter, seed = sys.argv[1], *map(int, sys.argv[2:8])
values = np.fromfile(data, dtype=np.float32)
rows = n_train + n_val + n_test
X = values[: rows * n_features].reshape(rows, n_features)
y = values[rows * n_features:].astype(np.int32)
development = n_train + n_val
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
search.fit(X[:development], y[:development])
wall = time.perf_counter() - start
r = search.cv_results_
best = int(np.nanargmax(r["split0_test_score"]))
model = HistGradientBoostingClassifier(random_state=seed, **r["params"][best]).fit(X[:n_train], y[:n_train])
print(json.dumps({
    "peer": "sklearn-random-hgb",
    "wall_s": wall,
    "elapsed_s": [float(v) for v in np.cumsum(r["mean_fit_time"] + r["mean_score_time"])],
    "auroc": [None if np.isnan(v) else float(v) for v in r["split0_test_score"]],
    "best_params": {k: (v.item() if hasattr(v, "item") else v) for k, v in r["params"][best].items()},
    "test_auroc": float(roc_auc_score(y[development:], model.predict_proba(X[development:])[:, 1])),
}))
