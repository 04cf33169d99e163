#!/usr/bin/env bash
# Runs every notebook that loads the package in the real kernel and saves its outputs into the .ipynb, so a reader on
# a code host sees the results without running it. The outputs record the commit they came from.
set -euo pipefail
cd "$(dirname "$0")/.."
CODEII_REFRESH_NOTEBOOK_OUTPUTS=1 dotnet test tests/CodeII.Experiments.Tests --filter "FullyQualifiedName~KernelNotebookTests"
