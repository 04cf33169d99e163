"""Peer for `codeii bench sweep`: Optuna's TPE sampler (its defaults, seeded) tuning scikit-learn's
HistGradientBoostingClassifier or XGBoost's `hist` booster on the same training and validation rows as ours, scored by
validation AUROC, single-threaded. The best trial's model then scores the test rows once. Prints one JSON line: each
trial's finishing time since the search began and its validation AUROC, the search's wall time, the best trial's
parameters and its test AUROC. Benchmark peer only; never used by the product.

Usage: optuna_sweep.py MATRIX N_TRAIN N_VAL N_TEST N_FEATURES N_TRIALS SEED hgb|xgb
MATRIX: float32 rows (training, validation, test), then one float32 label (0/1) per row."""
import json
import sys
import time

import numpy as np
import optuna
from sklearn.metrics import roc_auc_score

data, n_train, n_val, n_test, n_features, n_trials, seed, model = (
    sys.argv[1], *map(int, sys.argv[2:8]), sys.argv[8])
values = np.fromfile(data, dtype=np.float32)
rows = n_train + n_val + n_test
X = values[: rows * n_features].reshape(rows, n_features)
y = values[rows * n_features:].astype(np.int32)
X_train, y_train = X[:n_train], y[:n_train]
X_val, y_val = X[n_train:n_train + n_val], y[n_train:n_train + n_val]
X_test, y_test = X[n_train + n_val:], y[n_train + n_val:]

if model == "hgb":
    from sklearn.ensemble import HistGradientBoostingClassifier

    def fit(trial):
        # The ranges of our LightGBM space (docs/sweep.md) in HistGradientBoosting's names, on the same scales. Its own
        # early stopping (10 rounds without improvement on 10 % of the training rows) is on whatever the row count;
        # scikit-learn 1.2 has no feature subsampling.
        classifier = HistGradientBoostingClassifier(
            max_iter=trial.suggest_int("max_iter", 4, 1000, log=True),
            max_leaf_nodes=trial.suggest_int("max_leaf_nodes", 4, 256, log=True),
            learning_rate=trial.suggest_float("learning_rate", 0.01, 1, log=True),
            min_samples_leaf=trial.suggest_int("min_samples_leaf", 2, 100, log=True),
            l2_regularization=trial.suggest_float("l2_regularization", 1e-3, 10, log=True),
            early_stopping=True, random_state=seed)
        return classifier.fit(X_train, y_train)
elif model == "xgb":
    from xgboost import XGBClassifier

    def fit(trial):
        # Leaf-wise growth bounded by leaves, as LightGBM grows; early stopping after 20 rounds without a lower
        # validation log loss, as ours. XGBoost has no minimum count of rows per leaf: its min_child_weight is a
        # minimum hessian sum (p(1 - p) per row, a few hundredths per row at these prevalences), searched on 0.01-10.
        classifier = XGBClassifier(
            n_estimators=trial.suggest_int("n_estimators", 4, 1000, log=True),
            max_leaves=trial.suggest_int("max_leaves", 4, 256, log=True),
            learning_rate=trial.suggest_float("learning_rate", 0.01, 1, log=True),
            min_child_weight=trial.suggest_float("min_child_weight", 0.01, 10, log=True),
            reg_lambda=trial.suggest_float("reg_lambda", 1e-3, 10, log=True),
            colsample_bytree=trial.suggest_float("colsample_bytree", 0.3, 1),
            tree_method="hist", grow_policy="lossguide", max_depth=0, max_bin=255, n_jobs=1, random_state=seed,
            early_stopping_rounds=20, eval_metric="logloss")
        return classifier.fit(X_train, y_train, eval_set=[(X_val, y_val)], verbose=False)
else:
    sys.exit(f"unknown model {model!r}: hgb or xgb")

best = {"auroc": -1.0, "model": None}


def objective(trial):
    classifier = fit(trial)
    auroc = roc_auc_score(y_val, classifier.predict_proba(X_val)[:, 1])
    if auroc > best["auroc"]:
        best.update(auroc=auroc, model=classifier)
    return auroc


elapsed = []
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
start = time.perf_counter()
study.optimize(objective, n_trials=n_trials, callbacks=[lambda s, t: elapsed.append(time.perf_counter() - start)])
wall = time.perf_counter() - start
print(json.dumps({
    "peer": f"optuna-tpe-{model}",
    "wall_s": wall,
    "elapsed_s": elapsed,
    "auroc": [t.value if t.value is not None else None for t in study.trials],
    "best_params": study.best_trial.params,
    "test_auroc": float(roc_auc_score(y_test, best["model"].predict_proba(X_test)[:, 1])),
}))
