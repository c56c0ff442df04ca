#!/usr/bin/env bash
# Integration suite for image_manifest and mirror_images, against real
# registries: Debian's docker-registry on 127.0.0.1 as the source (plain
# HTTP), a plain-HTTP target marked insecure and a target with htpasswd auth
# over TLS signed by a throwaway CA. Images are built from real files by the
# seed command and pushed to the source. Modules run through real
# ansible-playbook / ansible with ANSIBLE_COLLECTIONS_PATH.
# Prints "container_images: N passed, N failed" last; exits non-zero on failure;
# always stops the registries it started.
set -uo pipefail

# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$repo" || exit 1
STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-ci-images.XXXXXX")
REGISTRIES=(src plain secure tlsonly)
cleanup() {
  for r in "${REGISTRIES[@]}"; do scripts/registry.sh stop "$STATE/$r" >/dev/null 2>&1; done
  rm -rf "$STATE"
}
trap cleanup EXIT

finish() { suite_finish container_images; exit; }

# The multi-call module binary for this machine and the collection link, through the Makefile.
suite_make "$STATE/make.log" || finish
suite_ansible_temp "$STATE"

PASSWORD="pw-$(openssl rand -hex 12)"
SRC=$(scripts/registry.sh start "$STATE/src") || { suite_fail "start source registry"; finish; }
PLAIN=$(scripts/registry.sh start "$STATE/plain") || { suite_fail "start plain registry"; finish; }
SECURE=$(REGISTRY_PASSWORD="$PASSWORD" scripts/registry.sh start "$STATE/secure" --auth mirror) || { suite_fail "start auth registry"; finish; }
TLSONLY=$(scripts/registry.sh start "$STATE/tlsonly" --tls) || { suite_fail "start TLS registry"; finish; }
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print("127.0.0.1:%d" % s.getsockname()[1]); s.close()')

go run ./gomodules/mirror/mirrortest/seed -registry "$SRC" -distinct 6 -multi 2 -names 9 -pinned 1 > "$STATE/images.yml" \
  || { suite_fail "seed the source registry"; finish; }

# yq-free YAML/JSON reading with the Python that ansible brings.
pyq() { python3 -c "import sys, json, yaml; d = yaml.safe_load(open(sys.argv[1])); print($2)" "$1"; }
# skopeo's view of a manifest digest (sha256 of the raw manifest).
# Prints nothing when the manifest cannot be read.
digest_of() {
  local raw
  raw=$(skopeo inspect --raw "${@:2}" "docker://$1" 2>/dev/null) && [ -n "$raw" ] || return 0
  printf '%s' "$raw" | sha256sum | awk '{print "sha256:" $1}'
}
# adhoc MODULE JSON_ARGS [ansible flags]: run one module, its host result to $STATE/result.json.
adhoc() {
  ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=json ansible localhost -m "imageops.cloud.$1" -a "$2" "${@:3}" \
    > "$STATE/adhoc.json" 2>"$STATE/adhoc.err"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["plays"][0]["tasks"][0]["hosts"]["localhost"]))' \
    "$STATE/adhoc.json" > "$STATE/result.json" 2>/dev/null || echo '{}' > "$STATE/result.json"
}
res() { pyq "$STATE/result.json" "$1"; }
play() { ansible-playbook "$@" >"$STATE/play.log" 2>&1; } # its output in play.log
recap_changed() { grep -E '^localhost +:' "$STATE/play.log" | sed -E 's/.*changed=([0-9]+).*/\1/'; }

# --- image_manifest: every strategy, no mirroring ----------------------------
keystone_src=$(pyq "$STATE/images.yml" 'd["container_images"]["image03"]')
for strategy in flatten path scoped; do
  out="$STATE/manifest-$strategy.yml"
  play imageops.cloud.image_manifest -e @"$STATE/images.yml" -e image_manifest_path="$out" \
    -e image_manifest_registry=registry.example.com/openstack -e image_manifest_strategy=$strategy
  case $strategy in
    flatten) want="registry.example.com/openstack/image03:v2" ;;
    path) want="registry.example.com/openstack/group0/image03:v2" ;;
    scoped) want="registry.example.com/openstack/${SRC/:/_}/group0/image03:v2" ;;
  esac
  got=$(pyq "$out" 'd["container_images"]["image03"]' 2>/dev/null)
  check "image_manifest strategy $strategy rewrites $keystone_src to $want (got $got)" [ "$got" = "$want" ]
done
pinned_src=$(pyq "$STATE/images.yml" 'd["container_images"]["image00"]')
got=$(pyq "$STATE/manifest-flatten.yml" 'd["container_images"]["image00"]')
check "tag and digest are both kept ($got)" [ "$got" = "registry.example.com/openstack/image00:v1@${pinned_src#*@}" ]

# A relative image_manifest_path is where the user runs ansible-playbook, as
# -e @images.yml is, not in the collection's playbooks/ directory.
rm -f playbooks/relative-manifest.yml
(cd "$STATE" && play imageops.cloud.image_manifest -e @images.yml -e image_manifest_path=relative-manifest.yml \
  -e image_manifest_registry=registry.example.com)
check "a relative image_manifest_path is written in the working directory" \
  bash -c "[ -f '$STATE/relative-manifest.yml' ] && [ ! -e playbooks/relative-manifest.yml ]"
rm -f playbooks/relative-manifest.yml

cat > "$STATE/collide.yml" <<YAML
container_images:
  ceph_a: quay.io/ceph/ceph:v18
  ceph_b: docker.io/someone/ceph:v18
YAML
play imageops.cloud.image_manifest -e @"$STATE/collide.yml" -e image_manifest_path="$STATE/collide-out.yml" \
  -e image_manifest_registry=registry.example.com
check "a flatten collision fails, naming both images" \
  bash -c "grep -q 'ceph_a' '$STATE/play.log' && grep -q 'ceph_b' '$STATE/play.log' && grep -q 'same target' '$STATE/play.log' && [ ! -e '$STATE/collide-out.yml' ]"

play imageops.cloud.image_manifest -e @"$STATE/images.yml" -e image_manifest_path="$STATE/manifest-flatten.yml" \
  -e image_manifest_registry=other.example.com
check "an existing different manifest is not overwritten without force" \
  bash -c "grep -q 'force' '$STATE/play.log' && grep -q 'registry.example.com' '$STATE/manifest-flatten.yml'"

# --- mirror and manifest to the insecure plain-HTTP target --------------------
out="$STATE/mirror-manifest.yml"
mirror_args=(-e @"$STATE/images.yml" -e image_manifest_path="$out" -e image_manifest_registry="$PLAIN/openstack"
  -e image_manifest_mirror=true -e "{\"image_manifest_insecure_registries\": [\"$PLAIN\"]}")
play imageops.cloud.image_manifest "${mirror_args[@]}" --check
check "check mode writes neither images nor manifest" \
  bash -c "[ ! -e '$out' ] && ! skopeo inspect --raw --tls-verify=false docker://$PLAIN/openstack/image01:v2 >/dev/null 2>&1"

play imageops.cloud.image_manifest "${mirror_args[@]}" -e image_manifest_pin_digests=true -e '{"image_manifest_platforms": ["linux/amd64"]}'
check "pinning digests while mirroring only some platforms fails before copying" \
  bash -c "grep -q 'image_manifest_platforms' '$STATE/play.log' && [ ! -e '$out' ] && ! skopeo inspect --raw --tls-verify=false docker://$PLAIN/openstack/image01:v2 >/dev/null 2>&1"

play imageops.cloud.image_manifest "${mirror_args[@]}"
check "image_manifest with mirroring succeeds" grep -qE 'failed=0' "$STATE/play.log"
all_equal=true
for name in $(pyq "$STATE/images.yml" '" ".join(d["container_images"])'); do
  src_ref=$(pyq "$STATE/images.yml" "d['container_images']['$name']")
  dst_ref=$(pyq "$out" "d['container_images']['$name']")
  s=$(digest_of "${src_ref%@*}" --tls-verify=false); t=$(digest_of "${dst_ref%@*}" --tls-verify=false)
  if [ -z "$s" ] || [ "$s" != "$t" ]; then all_equal=false; echo "  $name: source $s, target $t"; fi
done
check "every image has the same digest at source and target" $all_equal
multi_dst=$(pyq "$out" 'd["container_images"]["image01"]')
children_ok=$(skopeo inspect --raw --tls-verify=false "docker://$multi_dst" | python3 -c '
import json, subprocess, sys
idx = json.load(sys.stdin); ref = sys.argv[1].rsplit(":", 1)[0]
ok = len(idx.get("manifests", [])) == 3 and all(subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
     "docker://%s@%s" % (ref, m["digest"])], capture_output=True).returncode == 0 for m in idx["manifests"])
print(ok)' "$multi_dst")
check "the multi-platform index arrived with its three platform manifests" [ "$children_ok" = True ]

before=$(stat -c %Y "$out"); sleep 1
play imageops.cloud.image_manifest "${mirror_args[@]}"
check "the re-run changes nothing (recap changed=$(recap_changed))" [ "$(recap_changed)" = 0 ]
check "the re-run leaves the manifest file alone" [ "$(stat -c %Y "$out")" = "$before" ]

adhoc mirror_images "{\"images\": $(pyq "$STATE/images.yml" 'json.dumps(d["container_images"])'), \"registry\": \"$PLAIN/dedup\", \"insecure_registries\": [\"$PLAIN\"]}"
check "nine names over six distinct images are copied six times" [ "$(res 'len(d["copied_images"])')" = 6 ]
check "aliases are reported with the image they share" \
  [ "$(res '[c["names"] for c in d["copied_images"] if "image00" in c["names"]][0]')" = "['image00', 'image00_alias']" ]

# --- failures are reported and the other images still copy --------------------
adhoc mirror_images "{\"images\": {\"good\": \"$SRC/group1/image01:v2\", \"missing\": \"$SRC/group1/nothing:v9\", \"unreachable\": \"$CLOSED/some/image:1\"}, \"registry\": \"$PLAIN/partial\", \"insecure_registries\": [\"$PLAIN\"]}"
check "one run: the good image is copied despite the others" [ "$(res 'len(d["copied_images"])')" = 1 ]
check "a missing image is reported as not found" [ "$(res '[f["reason"] for f in d["failed_images"] if "nothing" in f["source"]]')" = "['not found']" ]
check "an unreachable registry is reported as network" [ "$(res '[f["reason"] for f in d["failed_images"] if "unreachable" in f["names"]]')" = "['network']" ]
check "the module fails, listing every failure" bash -c "[ \"\$(python3 -c 'import json;d=json.load(open(\"$STATE/result.json\"));print(d.get(\"failed\"), \"2 of 3\" in d[\"msg\"])')\" = 'True True' ]"

adhoc mirror_images "{\"images\": [\"$SRC/group1/image01:v2\", \"$SRC/group2/image02:v1\"], \"registry\": \"$SECURE\", \"ca_cert\": \"$STATE/secure/ca.pem\", \"registry_auth\": {\"$SECURE\": {\"username\": \"mirror\", \"password\": \"wrong-$PASSWORD\"}}}"
check "a wrong password is reported as auth for each image" [ "$(res 'sorted(set(f["reason"] for f in d["failed_images"]))')" = "['auth']" ]
check "the wrong password appears nowhere in the output" bash -c "! grep -q -- '$PASSWORD' '$STATE/adhoc.json' '$STATE/adhoc.err'"

play imageops.cloud.mirror_images -e @"$STATE/images.yml" -e mirror_images_registry="$SECURE/openstack" \
  -e mirror_images_names=image01,image02 -e mirror_images_ca_cert="$STATE/secure/ca.pem" \
  -e "{\"mirror_images_registry_auth\": {\"$SECURE\": {\"username\": \"mirror\", \"password\": \"$PASSWORD\"}}}" -vvv
check "mirror_images copies the selected names to the TLS+auth registry" \
  bash -c "grep -qE 'changed=1 .*failed=0' '$STATE/play.log' && skopeo inspect --raw --tls-verify=false --creds 'mirror:$PASSWORD' docker://$SECURE/openstack/image01:v2 >/dev/null 2>&1"
check "with -vvv the password appears nowhere in the play's output" bash -c "! grep -q -- '$PASSWORD' '$STATE/play.log'"
check "names not selected are not copied" bash -c "! skopeo inspect --raw --tls-verify=false --creds 'mirror:$PASSWORD' docker://$SECURE/openstack/image03:v2 >/dev/null 2>&1"

# --- TLS trust -----------------------------------------------------------------
adhoc mirror_images "{\"images\": [\"$SRC/group2/image02:v1\"], \"registry\": \"$TLSONLY\"}"
check "an untrusted certificate is reported as tls" [ "$(res '[f["reason"] for f in d["failed_images"]]')" = "['tls']" ]
adhoc mirror_images "{\"images\": [\"$SRC/group2/image02:v1\"], \"registry\": \"$TLSONLY\", \"insecure_registries\": [\"$TLSONLY\"]}"
check "insecure_registries accepts it" [ "$(res 'len(d["copied_images"])')" = 1 ]
SSL_CERT_FILE="$STATE/tlsonly/ca.pem" adhoc mirror_images "{\"images\": [\"$SRC/group2/image02:v1\"], \"registry\": \"$TLSONLY\"}"
check "SSL_CERT_FILE trusts the CA, and the image is already there" [ "$(res 'len(d["skipped_images"])')" = 1 ]

finish
