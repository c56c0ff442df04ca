#!/usr/bin/env bash
# Runs `ansible-test sanity` on the collection offline, with Debian's packages only.
#   scripts/sanity.sh [ansible-test sanity options, e.g. --test validate-modules]
#
# ansible-test wants the collection under .../ansible_collections/imageops/cloud and builds one
# virtual environment per test, installing pip (downloaded) and the test's requirements into it.
# Offline, neither works. ansible-test reuses an environment that holds a marker.txt, so this
# script lets ansible-test name the environment it wants (its path holds a hash of the test's
# requirements), creates it with `python3 -m venv --system-site-packages --without-pip` over
# Debian's python3 (yamllint, pylint, pycodestyle, python3-voluptuous, python3-yaml, jinja2
# come from Debian's packages, see scripts/install-deps.sh) and runs again. The environments
# live under a throwaway HOME, so nothing is left behind.
#
# The collection is copied (the files git knows, as ansible-test would see them) into a
# temporary ansible_collections tree. Tests that need what Debian does not package are
# skipped: changelog (antsibull-changelog; scripts/changelog.py --check stands in) and pslint
# (PowerShell).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
state=$(mktemp -d "${TMPDIR:-/tmp}/imageops-sanity.XXXXXX")
trap 'rm -rf "$state"' EXIT
python=/usr/bin/python3
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

collection="$state/ansible_collections/imageops/cloud"
mkdir -p "$collection"
git -C "$repo" ls-files -z --cached --others --exclude-standard \
  | (cd "$repo" && xargs -0 cp --parents -t "$collection" 2>/dev/null)
cd "$collection" || exit 1

export HOME="$state/home"
mkdir -p "$HOME"
sanity() {
  ansible-test sanity --local --python "$version" --color no \
    --skip-test changelog --skip-test pslint "$@" 2>&1
}

# Each round either runs every test, or stops at one environment that does not exist yet.
for _ in $(seq 1 30); do
  out=$(sanity "$@")
  rc=$?
  venv=$(grep -oE 'at "[^"]+/bin/python" does not have pip available' <<<"$out" | sed -E 's|^at "(.*)/bin/python".*|\1|')
  if [ -z "$venv" ]; then
    echo "$out"
    exit "$rc"
  fi
  rm -rf "$venv"
  "$python" -m venv --system-site-packages --without-pip "$venv" || exit 1
  echo true >"$venv/meta.yaml.json" # PyYAML with libyaml, as ansible-test's yamlcheck would find
  echo '[]' >"$venv/meta.install.json"
  touch "$venv/marker.txt"
done
echo "sanity: ansible-test kept asking for new virtual environments" >&2
exit 1
