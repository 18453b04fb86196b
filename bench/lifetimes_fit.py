#!/usr/bin/env python3
"""BG/NBD fitted to one customer summary by lifetimes 0.11.3 (the Python reference) and by
Credo, in one run: parameters, the full log-likelihood of the data at each fit (computed
by lifetimes' own likelihood function on the unscaled data, so that both are read alike)
and the time each fit takes.

Usage: lifetimes_fit.py SUMMARY_CSV CREDO_BINARY
SUMMARY_CSV has a header with frequency, recency and T (in weeks).
Prints one JSON object.
"""
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter


def log_likelihood(params, data):
    """The summed log-likelihood of the data at (r, alpha, a, b), by lifetimes' formula."""
    log_params = np.log([params["r"], params["alpha"], params["a"], params["b"]])
    weights = np.ones(len(data))
    mean_nll = BetaGeoFitter._negative_log_likelihood(
        log_params, data["frequency"].values, data["recency"].values, data["T"].values, weights, 0.0
    )
    return -float(mean_nll) * len(data)


def main():
    summary_csv, credo = sys.argv[1], sys.argv[2]
    data = pd.read_csv(summary_csv)

    started = time.perf_counter()
    fitter = BetaGeoFitter(penalizer_coef=0.0)
    fitter.fit(data["frequency"], data["recency"], data["T"])
    python_seconds = time.perf_counter() - started
    python_params = {k: float(fitter.params_[k]) for k in ("r", "alpha", "a", "b")}

    started = time.perf_counter()
    out = subprocess.run([credo, "fit-bg-nbd", "--summary", summary_csv], check=True, capture_output=True, text=True)
    credo_process_seconds = time.perf_counter() - started
    credo = json.loads(out.stdout)
    credo_params = {k: credo[k] for k in ("r", "alpha", "a", "b")}

    print(json.dumps({
        "customers": len(data),
        "lifetimes": {**python_params, "log_likelihood": log_likelihood(python_params, data), "seconds": python_seconds},
        "credo": {**credo_params, "log_likelihood": credo["log_likelihood"],
                  "log_likelihood_by_lifetimes": log_likelihood(credo_params, data),
                  "seconds": credo["fit_seconds"], "process_seconds": credo_process_seconds},
    }))


if __name__ == "__main__":
    main()
