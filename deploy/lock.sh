#!/usr/bin/env bash
# Regenerates deploy/constraints.txt: the exact versions of trade-monitor's runtime dependencies, as
# resolved in a fresh virtual environment from pyproject.toml. Run from the repository root after
# changing a dependency, then rebuild the image.
set -euo pipefail
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet .
{
  echo "# Runtime dependencies of trade-monitor at exact versions, for the Docker image (deploy/lock.sh)."
  "$venv/bin/pip" freeze --exclude trade-monitor | grep -v '^-e '
} > deploy/constraints.txt
echo "wrote deploy/constraints.txt ($(grep -vc '^#' deploy/constraints.txt) packages)"
