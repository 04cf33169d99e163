"""Benchmark peer (never part of the product): band-pass, R-peak detection and RR statistics with scipy/numpy.

Reads ECGs written by `codeii bench features` (float32, shape ecgs x 12 x samples, little-endian) and prints
one JSON line with ECGs per second on one core. Mirrors the C# step: zero-phase Butterworth band-pass
(order 2, 0.5-40 Hz) on all 12 leads, R peaks on the summed squared slope, RR mean/SD/RMSSD.
"""
import json
import sys
import time

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

path, count, samples, fs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
ecgs = np.fromfile(path, dtype="<f4").reshape(count, 12, samples)
sos = butter(2, [0.5, 40.0], btype="bandpass", fs=fs, output="sos")


def rpeaks_and_rr(ecg):
    filtered = sosfiltfilt(sos, ecg, axis=1)
    energy = np.sum(np.diff(filtered, axis=1) ** 2, axis=0)
    peaks, _ = find_peaks(energy, height=0.25 * np.percentile(energy, 99), distance=int(0.25 * fs))
    rr = np.diff(peaks) / fs * 1000.0
    if rr.size < 2:
        return peaks, (np.nan, np.nan, np.nan)
    return peaks, (rr.mean(), rr.std(ddof=1), np.sqrt(np.mean(np.diff(rr) ** 2)))


rpeaks_and_rr(ecgs[0])  # warm-up
start = time.perf_counter()
for ecg in ecgs:
    rpeaks_and_rr(ecg)
elapsed = time.perf_counter() - start
print(json.dumps({"ecgs": count, "seconds": elapsed, "ecgs_per_s": count / elapsed}))
