#!/usr/bin/env bash
# Runs the whole test suite. The .NET SDK brings everything except Debian's chromium, which the report tests
# drive headless through Playwright, Debian's slurm-wlm and munge, which the Slurm tests run a one-node cluster with,
# and Debian's python3-h5py, a test peer; this script installs them when they are missing.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Debian's chromium for the report tests" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "test.sh: chromium is missing and this user cannot install it; run: apt-get install chromium" >&2; exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# The Slurm executor's tests start a private one-node cluster (scripts/slurm-cluster.sh) from Debian's slurm-wlm and munge.
scripts/slurm-cluster.sh install

# Debian's h5py is a test peer for the CODE HDF5 reader (never used by the product). Its tests are skipped, naming the
# package, where it cannot be installed, so a failed install does not stop the suite.
if ! /usr/bin/python3 -c 'import h5py' >/dev/null 2>&1; then
  echo "test.sh: installing Debian's python3-h5py for the CODE HDF5 peer tests" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" = "none" ] || ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-h5py >/dev/null; }; then
    echo "test.sh: could not install python3-h5py; its peer tests will be skipped" >&2
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test CodeII.Experiments.sln "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line that any CI can read: "N passed, N failed, N skipped".
awk '/^(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
       found = 1 }
     END { if (found) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
