#!/usr/bin/env bash
# Packs the workbench and its notebook companion into local-feed/ at the repository root, where the notebooks' first
# cell finds them, and removes NuGet's and the kernel's cached copies of an earlier pack of the same version.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/codeii.experiments" "${NUGET_PACKAGES:-$HOME/.nuget/packages}/codeii.experiments.notebooks" "$HOME/.packagemanagement"
dotnet tool restore
dotnet pack src/CodeII.Experiments -c Release -o local-feed
dotnet pack src/CodeII.Experiments.Notebooks -c Release -o local-feed
echo "local-feed/ is ready; open a notebook in VS Code with the Polyglot Notebooks extension"
