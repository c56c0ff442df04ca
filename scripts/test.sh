#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: Go tests (unit tests and the tests that
# talk to a real Glance, qemu-img and registries), then the integration suites in
# tests/integration/*/run.sh, in name order. Starts a local Glance for the Go tests and
# stops it at the end. Prints "N passed, N failed" over the suites.
#   scripts/test.sh            everything
#   scripts/test.sh unit       Go tests (and the docs' YAML) only
#   scripts/test.sh integration the integration suites only
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
what=${1:-all}
export IMAGEOPS_REQUIRE_SERVICES=1
export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0

passed=0
failed=0
failures=()
record() { # name status
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

glance_state="$repo/build/test-glance"
cloud_state="$repo/build/test-cloud"
ironic_state="$repo/build/test-ironic"
stop_glance() {
  scripts/ironic.sh stop "$ironic_state" >/dev/null 2>&1 || true
  scripts/glance.sh stop "$glance_state" >/dev/null 2>&1 || true
  scripts/cloud.sh stop "$cloud_state" >/dev/null 2>&1 || true
}

if [ "$what" = all ] || [ "$what" = unit ]; then
  # Seconds: the docs and changelog fragments as Ansible's and antsibull's YAML reader
  # sees them (Go's accepts more), before the slow suites that would find it late.
  echo "== docs and changelog YAML, gofmt"
  python3 scripts/docs_yaml.py && python3 scripts/changelog.py --check
  record "docs yaml" $?
  unformatted=$(gofmt -l gomodules)
  [ -z "$unformatted" ] || printf 'not gofmt-ed:\n%s\n' "$unformatted" >&2
  record "gofmt" "$([ -z "$unformatted" ]; echo $?)"
  trap stop_glance EXIT
  # The Keystone cloud starts meanwhile; its tokens live 60 s so that a test
  # waits for one to expire for real. Not shorter: at a load of 40 on 2 cores
  # Glance checked tokens with Keystone after 30 s had passed, and refused them.
  IMAGEOPS_CLOUD_TOKEN_TTL=60 scripts/cloud.sh start "$cloud_state" >"$repo/build/test-cloud.log" 2>&1 &
  cloud_start=$!
  if ! scripts/glance.sh start "$glance_state"; then
    echo "test: the local Glance did not start" >&2
    exit 1
  fi
  if ! wait "$cloud_start"; then
    cat "$repo/build/test-cloud.log" >&2
    echo "test: the local Keystone cloud did not start" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  source "$glance_state/env"
  # Ironic, on that Glance, for the baremetal layer's tests (IMAGEOPS_IRONIC_URL only).
  if ! scripts/ironic.sh start "$ironic_state"; then
    echo "test: the local Ironic did not start" >&2
    exit 1
  fi
  eval "$(grep '^export IMAGEOPS_IRONIC_URL=' "$ironic_state/env")"
  # Only the Keystone cloud's own variables: OS_CLOUD and OS_CLIENT_CONFIG_FILE
  # stay the keyless Glance's; tests of the Keystone cloud read IMAGEOPS_CLOUD_STATE.
  eval "$(grep '^export IMAGEOPS_CLOUD_' "$cloud_state/env")"
  echo "== go test ./..."
  go test -count=1 ./...
  record "go test" $?
  stop_glance
  unset OS_CLIENT_CONFIG_FILE OS_CLOUD IMAGEOPS_GLANCE_URL IMAGEOPS_IRONIC_URL "${!IMAGEOPS_CLOUD_@}"
  echo "== scripts/fuzz.sh (every fuzz target, a few seconds each)"
  scripts/fuzz.sh
  record "fuzz" $?
fi

if [ "$what" = all ] || [ "$what" = integration ]; then
  for suite in tests/integration/*/run.sh; do
    [ -e "$suite" ] || continue
    echo "== $suite"
    bash "$suite"
    record "$suite" $?
  done
fi

echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
