#!/usr/bin/env bash
# example-commands.sh EXAMPLE.yaml — print the local commands an example's
# header documents (its "#   $ " lines), one per line, ready for bash.
# docs/examples.md walks every example with them; e2e/examples_test.go runs
# them, so a documented command that stops working fails the tests.
#   bash -euo pipefail <(scripts/example-commands.sh examples/minimal.yaml)
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 EXAMPLE.yaml" >&2; exit 2; }
sed -n 's/^#   \$ //p' "$1"
