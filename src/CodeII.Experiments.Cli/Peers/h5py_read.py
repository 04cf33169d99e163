"""Benchmark peer (never part of the product): reads CODE-15% HDF5 parts with h5py, one exam slab at a time.

Reads every exam of the given exams_part*.hdf5 files as `tracings[i]`, the (samples, 12) float32 slab a PyTorch
Dataset returns, twice: once bare ("slab"), and once doing with numpy what `codeii`'s reader does with each exam
("record": check that every value is finite, copy the leads out as 12 contiguous arrays, find the recording between
the zero padding). Prints one JSON line with exams per second for each.

h5py holds the GIL through most of a read, so threads would queue on one another: the exams are split into
`processes` runs of consecutive exams, each read by its own process with its own file handles, as a DataLoader's
workers would. Each clock covers starting the processes, opening the files and reading every exam.

usage: h5py_read.py <processes> <part.hdf5> [<part.hdf5> ...]
"""
import json
import multiprocessing
import sys
import time

import h5py
import numpy as np


def slab(x):
    return x


def record(x):
    if not np.isfinite(x).all():
        raise ValueError("a value is not finite")
    leads = np.ascontiguousarray(x.T)
    nonzero = np.flatnonzero(x.any(axis=1))
    recorded = (int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0)
    return leads, recorded


def exams_in(path):
    with h5py.File(path, "r") as f:
        return f["tracings"].shape[0]


def read_share(work, paths, first, stop):
    """Reads exams [first, stop) of the parts taken end to end."""
    offset = 0
    for path in paths:
        with h5py.File(path, "r") as f:
            tracings = f["tracings"]
            count = tracings.shape[0]
            for i in range(max(first, offset), min(stop, offset + count)):
                work(tracings[i - offset])
            offset += count


def exams_per_second(work, processes, paths, total):
    bounds = [total * k // processes for k in range(processes + 1)]
    start = time.perf_counter()
    workers = [multiprocessing.Process(target=read_share, args=(work, paths, bounds[k], bounds[k + 1])) for k in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if any(w.exitcode != 0 for w in workers):
        sys.exit("a reader process failed")
    return total / elapsed


def main():
    processes, paths = int(sys.argv[1]), sys.argv[2:]
    total = sum(exams_in(p) for p in paths)
    print(json.dumps({
        "exams": total,
        "processes": processes,
        "slab_exams_per_s": exams_per_second(slab, processes, paths, total),
        "record_exams_per_s": exams_per_second(record, processes, paths, total),
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
    }))


if __name__ == "__main__":
    main()
