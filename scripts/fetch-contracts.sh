#!/usr/bin/env bash
# fetch-contracts.sh [DIR]
#
# Downloads the pinned GitHub contract packages from the npm registry and
# extracts them so tests can validate against GitHub's own descriptions:
#   DIR/openapi            @octokit/openapi          (generated/api.github.com.json)
#   DIR/graphql-schema     @octokit/graphql-schema   (schema.graphql)
#   DIR/webhooks-examples  @octokit/webhooks-examples
# DIR defaults to ${GHSYNC_CONTRACTS_DIR:-$HOME/.cache/ghsync/contracts}.
# Idempotent: a package whose directory already holds package.json is skipped.
# Concurrent runs are serialised with flock on DIR/.lock.
set -euo pipefail

DIR="${1:-${GHSYNC_CONTRACTS_DIR:-$HOME/.cache/ghsync/contracts}}"

# name@version  target-subdirectory
PACKAGES=(
  "@octokit/openapi@23.0.2 openapi"
  "@octokit/graphql-schema@15.26.1 graphql-schema"
  "@octokit/webhooks-examples@7.6.1 webhooks-examples"
)

command -v npm >/dev/null 2>&1 || { echo "fetch-contracts: npm not found in PATH" >&2; exit 1; }
mkdir -p "$DIR"

# Serialise concurrent runs (go test runs packages in parallel, and each may
# try to fetch). flock is in util-linux; without it we proceed unlocked.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$DIR/.lock"
  flock 9
fi

for entry in "${PACKAGES[@]}"; do
  spec="${entry% *}"
  sub="${entry#* }"
  dest="$DIR/$sub"
  if [[ -f "$dest/package.json" ]]; then
    echo "fetch-contracts: $spec already in $dest"
    continue
  fi
  work="$(mktemp -d "$DIR/.fetch-$sub.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "fetch-contracts: npm pack $spec"
  tgz="$(cd "$work" && npm pack --silent "$spec" | tail -n 1)"
  mkdir -p "$work/x"
  tar -xzf "$work/$tgz" -C "$work/x"
  # npm tarballs put everything under package/. Rename into place so an
  # interrupted run never leaves a half-extracted package behind.
  rm -rf "$dest"
  mv "$work/x/package" "$dest"
  rm -rf "$work"
  trap - EXIT
  echo "fetch-contracts: $spec -> $dest"
done
