#!/usr/bin/env bash
# The community_images role and the community_image module through real ansible-playbook,
# against a real Glance, in molecule's order (extensions/molecule/community_images):
# prepare, converge, idempotence (the second converge must report changed=0), verify,
# then bad input, check mode, then cleanup, which always runs.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
scenario="$repo/extensions/molecule/community_images"
here="$repo/tests/integration/20_community_images"
log="$repo/build/molecule-glance/logs"
export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
source "$repo/tests/integration/lib.sh"
suite_init "$log"

idempotent() { ran_with "$unchanged" "$scenario/converge.yml"; }
changed_in_check_mode() { # the role in check mode after a change to a property: reports it, writes nothing
  ran_with '^\+ +"site": "changed"' "$scenario/converge.yml" --check --diff \
    -e '{"community_images_custom_properties": ["site=changed"]}' && idempotent
}
unsupported_platform() { # a target that says it is ppc64le gets a clear failure, not an exec error
  local fake out
  fake=$(mktemp -d)
  printf '#!/bin/sh\necho Linux ppc64le\n' >"$fake/uname"
  chmod +x "$fake/uname"
  out=$(PATH="$fake:$PATH" ansible localhost -c local -m imageops.cloud.community_image -a 'name=x state=absent' 2>&1)
  rm -rf "$fake"
  echo "$out"
  grep -q 'imageops.cloud.community_image has no build for the platform of host localhost: Linux ppc64le (from uname -sm); builds exist for linux/amd64, linux/arm64' <<<"$out"
}
no_url_password_in_output() { # a source_url's user:password@ shows nowhere, not even with -vvv
  local out
  out=$(playbook "$scenario/converge.yml" --check -vvv \
    -e '{"community_images_extra": {"authed": {"name": "bad-authed", "source_url": "http://alice:s3cretPW@127.0.0.1:9/d.qcow2"}}}' 2>&1)
  echo "$out"
  ! grep -q 's3cretPW' <<<"$out" && grep -q 'alice:\*\*\*\*\*\*\*\*@' <<<"$out"
}
galaxy_install() { # the collection as ansible-galaxy builds and installs it: binaries included, modules run
  local tmp out
  tmp=$(mktemp -d)
  ansible-galaxy collection build "$repo" --output-path "$tmp" &&
    ansible-galaxy collection install -p "$tmp/installed" "$tmp"/imageops-cloud-*.tar.gz &&
    out=$(ANSIBLE_COLLECTIONS_PATH="$tmp/installed" ansible localhost -c local -m imageops.cloud.community_image \
      -a 'name=x state=absent auth_type=none image_endpoint_override=http://127.0.0.1:9' 2>&1)
  local rc=$?
  echo "$out"
  rm -rf "$tmp"
  [ "$rc" -ne 0 ] && grep -q 'listing images named \\"x\\" in Glance at http://127.0.0.1:9' <<<"$out"
}
cleanup() { playbook "$scenario/cleanup.yml" >"$log/cleanup.log" 2>&1 || echo "cleanup failed: see $log/cleanup.log"; }

trap cleanup EXIT
step prepare playbook "$scenario/prepare.yml"
step converge playbook "$scenario/converge.yml"
step idempotence idempotent
step verify playbook "$scenario/verify.yml"
step check_mode changed_in_check_mode
step bad_input playbook "$here/bad_input.yml"
step unsupported_platform unsupported_platform
step galaxy_install galaxy_install
step no_url_password_in_output no_url_password_in_output
step docs bash -c "ansible-doc imageops.cloud.community_image | grep -q 'checksum_sha512' && ansible-doc imageops.cloud.community_image_batch | grep -q 'jobs'"
suite_finish community_images
