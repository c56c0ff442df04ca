#!/usr/bin/env bash
# Integration suite for image_build: builds a minimal Debian bookworm image
# with the role and playbook (real ansible-playbook, packages from the apt
# mirror this machine uses), checks its build record, that a second run builds
# nothing and that bad specs fail before anything is downloaded, then boots
# the image with qemu-system-x86_64 under TCG with OVMF (UEFI) and a NoCloud
# seed (a vfat labelled cidata, made with mtools) whose runcmd writes a random
# marker to the serial console: the suite passes when the marker shows.
# The one build also takes kubernetes-sigs image-builder's options, written as
# image-builder's strings: a local apt repository made here (dpkg-deb,
# apt-ftparchive, served on loopback) as extra_repos with disable_public_repos,
# remove_extra_repos and extra_debs; the mirror reached through a loopback
# proxy (tinyproxy; no_proxy for loopback); a pre and a post custom role; a
# registry image (docker-registry on loopback), a URL image (skopeo's docker
# archive) and an executable as additional components. The boot shows on the
# console what the post role wrote, the package's file, the executable's
# output, containerd's images and the apt sources left.
# The boot is bounded (IMAGE_BUILD_BOOT_TIMEOUT, 1800 s: 512 s were seen at a load of 20 on 2 cores,
# and IMAGE_BUILD_BOOT_STALL, 600 s without console output); on failure the serial
# console is printed. Prints "image_build: N passed, N failed" last; exits
# non-zero on failure; stops what it started and removes what it made.
# build is called with and without arguments (--check goes through check).
# shellcheck disable=SC2119,SC2120
set -uo pipefail
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$repo" || exit 1
STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-ci-build.XXXXXX")
qemu_pid='' proxy_pid=''
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
  scripts/serve.sh stop "$STATE/www" >/dev/null 2>&1
  scripts/registry.sh stop "$STATE/registry" >/dev/null 2>&1
  rm -rf "$STATE"
}
trap cleanup EXIT
finish() { suite_finish image_build; exit; }

arch=$(module_arch)
suite_make "$STATE/make.log" || finish
suite_ansible_temp "$STATE"
MIRROR=$(apt_mirror)
OUT="$STATE/out"

play() { playbook "$@" >"$STATE/play.log" 2>&1; } # its output in play.log
recap() { grep -E '^localhost +:' "$STATE/play.log" | grep -oE "$1=[0-9]+" | cut -d= -f2; }
play_failed_with() { ! play "${@:2}" && grep -q -- "$1" "$STATE/play.log"; }
build() { play imageops.cloud.image_build -e "@$STATE/role-vars.yml" "$@"; }

# What the image-builder options take, made here and served on loopback.
# The apt repository: imageops-marker, and a hello older than Debian's, which
# apt installs only when the public repositories are disabled.
mkdir -p "$STATE/www/repo" "$STATE/www/images" "$STATE/www/bin" "$STATE/roles"
deb() { # name version file content
  local dir="$STATE/debs/$1"
  mkdir -p "$dir/DEBIAN" "$dir/$(dirname "$3")"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: imageops.cloud tests <tests@imageops.invalid>\nDescription: image_build test package\n' "$1" "$2" >"$dir/DEBIAN/control"
  printf '%s\n' "$4" >"$dir/$3"
  dpkg-deb --root-owner-group -Zgzip -b "$dir" "$STATE/www/repo/$1_$2_all.deb" >/dev/null
}
deb imageops-marker 1.0 usr/share/imageops-marker/marker "imageops-marker installed from the extra repository"
deb hello 0.1+imageops usr/share/doc/hello/imageops "the extra repository's hello"
(cd "$STATE/www/repo" && apt-ftparchive packages . >Packages && apt-ftparchive release . >Release) \
  || { suite_fail "make the apt repository"; finish; }
# shellcheck disable=SC2016 # $1 is the executable's
printf '#!/bin/sh\necho "imageops-hello says $1"\n' >"$STATE/www/bin/imageops-hello"
WWW=$(scripts/serve.sh start "$STATE/www") || { suite_fail "serve the repository"; finish; }
WWW_LOG=build/serve/www-$(printf '%s' "$(realpath -m "$STATE/www")" | sha256sum | cut -c1-12).log # serve.sh's request log
printf 'deb [trusted=yes] %s/repo ./\n' "$WWW" >"$STATE/imageops-test.list"

REGISTRY=$(scripts/registry.sh start "$STATE/registry") || { suite_fail "start docker-registry"; finish; }
go run ./gomodules/mirror/mirrortest/seed -registry "$REGISTRY" -distinct 2 -multi 1 -names 2 -pinned 0 >"$STATE/images.yml" \
  || { suite_fail "push the test images"; finish; }
REGISTRY_IMAGE=$(grep -oE "$REGISTRY/group0/[^\"' ]+" "$STATE/images.yml" | head -n1) # a multi-platform index
skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/group1/image01:v2" \
  "docker-archive:$STATE/www/images/url-image.tar:imageops/url-image:v1" || { suite_fail "make the URL image"; finish; }

# A forward proxy on loopback that logs each request.
PROXY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$STATE/tinyproxy.conf" <<CONF
Port $PROXY_PORT
Listen 127.0.0.1
Timeout 120
MaxClients 50
LogLevel Info
LogFile "$STATE/proxy.log"
Allow 127.0.0.1
ConnectPort 443
CONF
tinyproxy -d -c "$STATE/tinyproxy.conf" >/dev/null 2>&1 &
proxy_pid=$!
# Bounded by time, generously (a loaded machine starts it late); a proxy that
# exited (its port taken meanwhile) fails here, not in the build.
proxy_deadline=$((SECONDS + 60))
until grep -q "listening on" "$STATE/proxy.log" 2>/dev/null; do
  if ! kill -0 "$proxy_pid" 2>/dev/null || ((SECONDS >= proxy_deadline)); then
    suite_fail "start tinyproxy on port $PROXY_PORT"; cat "$STATE/proxy.log"; finish
  fi
  sleep 0.2
done

# Custom roles: pre by name (ANSIBLE_ROLES_PATH), post by path, post-sysprep
# by name (post again, by a dependency); post reads what pre, extra_debs and
# the sysprep left, so the files it writes show their order.
mkdir -p "$STATE/roles/imageops_pre/tasks" "$STATE/roles/imageops_post/tasks"
cat >"$STATE/roles/imageops_pre/tasks/main.yml" <<'YAML'
---
- name: Write the pre role's file
  ansible.builtin.copy:
    dest: /etc/imageops-pre-role
    content: "pre-ran-on-{{ ansible_facts['distribution_release'] }}"
    mode: "0644"
YAML
cat >"$STATE/roles/imageops_post/tasks/main.yml" <<'YAML'
---
- name: Read the pre role's file
  ansible.builtin.slurp:
    src: /etc/imageops-pre-role
  register: pre
- name: Look for extra_debs' file
  ansible.builtin.stat:
    path: /usr/share/imageops-marker/marker
  register: marker
- name: Look for the extra repository
  ansible.builtin.stat:
    path: /etc/apt/sources.list.d/imageops-test.list
  register: extra
- name: Write the post role's file
  ansible.builtin.copy:
    dest: /etc/imageops-{{ imageops_stage }}-role
    content: "imageops-{{ imageops_stage }}-role: {{ pre.content | b64decode }} marker-deb={{ marker.stat.exists }} extra-repo={{ extra.stat.exists }} proxy={{ ansible_env.http_proxy | default('') != '' }}\n"
    mode: "0644"
YAML
mkdir -p "$STATE/roles/imageops_sealed/tasks" "$STATE/roles/imageops_sealed/meta"
cat >"$STATE/roles/imageops_sealed/meta/main.yml" <<'YAML'
---
dependencies:
  - role: imageops_post
    vars:
      imageops_stage: sealed
YAML
printf -- '---\n- name: Nothing of its own\n  ansible.builtin.meta: noop\n' >"$STATE/roles/imageops_sealed/tasks/main.yml"
mkdir -p "$STATE/roles/imageops_post/defaults"
printf -- '---\nimageops_stage: post\n' >"$STATE/roles/imageops_post/defaults/main.yml"
export ANSIBLE_ROLES_PATH="$STATE/roles"

# The spec: the image's variables in image-builder-style var files (its
# strings: space- and comma-separated lists, "true"), the role's in another.
cat >"$STATE/debian-12.yml" <<YAML
name: debian-12-minimal
distribution: debian
release: bookworm
mirror: $MIRROR
size: 2G
formats: [qcow2]
source_date_epoch: 1700000000
YAML
cat >"$STATE/image-builder.json" <<JSON
{
  "extra_repos": "$STATE/imageops-test.list",
  "extra_debs": "imageops-marker hello",
  "disable_public_repos": "true",
  "remove_extra_repos": "true",
  "http_proxy": "http://127.0.0.1:$PROXY_PORT",
  "https_proxy": "http://127.0.0.1:$PROXY_PORT",
  "no_proxy": "127.0.0.1,localhost",
  "node_custom_roles_pre": "imageops_pre",
  "node_custom_roles_post": "$STATE/roles/imageops_post",
  "node_custom_roles_post_sysprep": "imageops_sealed",
  "load_additional_components": "true",
  "additional_registry_images": "true",
  "additional_registry_images_list": "$REGISTRY_IMAGE",
  "additional_url_images": "true",
  "additional_url_images_list": "$WWW/images/url-image.tar",
  "additional_executables": "true",
  "additional_executables_list": "$WWW/bin/imageops-hello",
  "additional_executables_destination_path": "/usr/local/bin"
}
JSON
cat >"$STATE/role-vars.yml" <<YAML
image_build_var_files: [$STATE/debian-12.yml, $STATE/image-builder.json]
image_build_output_dir: $OUT
YAML

# Bad specs fail before anything is downloaded or written.
printf 'name: x\nrelease: bookworm\ndisk_size: 20480\n' >"$STATE/bad.yml"
check "an unknown key in a var file fails naming the file and line, nothing written" \
  play_failed_with "var file \\\\\"$STATE/bad.yml\\\\\" line 3: unknown variable \\\\\"disk_size\\\\\"" \
  imageops.cloud.image_build -e image_build_output_dir="$OUT" -e "{\"image_build_var_files\": [\"$STATE/bad.yml\"]}"
check "... and output_dir was not made" test ! -e "$OUT"
check "an unknown release fails naming it" play_failed_with 'release \\"buster\\" (from task)' \
  imageops.cloud.image_build -e image_build_output_dir="$OUT" -e image_build_name=x -e image_build_release=buster
printf 'name: x\nrelease: bookworm\n  size: 2G\n' >"$STATE/broken.yml"
check "a var file that is not YAML fails naming the file and line" \
  play_failed_with "var file \\\\\"$STATE/broken.yml\\\\\" is not YAML or JSON: yaml: line 3: mapping values" \
  imageops.cloud.image_build -e image_build_output_dir="$OUT" -e "{\"image_build_var_files\": [\"$STATE/broken.yml\"]}"
check "a custom role that does not exist fails naming it, before any download" \
  play_failed_with 'node_custom_roles_post \\"imageops_missing\\" (from task): no such role' \
  imageops.cloud.image_build -e image_build_output_dir="$OUT" -e image_build_name=x -e image_build_node_custom_roles_post=imageops_missing
check "... and output_dir was still not made" test ! -e "$OUT"

# Run by hand, a build says where it is on the terminal (standard error):
# here one whose registry image does not exist, which fails in its first stage.
printf '{"name": "by-hand", "output_dir": "%s", "load_additional_components": true, "additional_registry_images": true, "additional_registry_images_list": ["%s/imageops/missing:v1"]}\n' \
  "$STATE/by-hand" "$REGISTRY" >"$STATE/by-hand.json"
"plugins/modules/imageops_linux_$arch" image_build "$STATE/by-hand.json" >"$STATE/by-hand.out" 2>"$STATE/by-hand.err"
check "run by hand, the terminal shows the stage and its elapsed time: $(grep -m1 'fetch: pulling' "$STATE/by-hand.err")" \
  grep -qE '^image_build by-hand \[ *[0-9]+\.[0-9]s\] fetch: pulling .*/imageops/missing:v1$' "$STATE/by-hand.err"
check "... and the failure names the stage and the image" grep -q 'stage fetch: pulling image' "$STATE/by-hand.out"

# Check mode says it would build, builds nothing.
check "check mode: changed, would build" build --check
check "... reports would build" grep -q "would build: no build record" "$STATE/play.log"
check "... and writes nothing" test ! -e "$OUT"

start=$SECONDS
if build; then
  suite_pass "build a minimal bookworm image ($((SECONDS - start)) s)"
else
  suite_fail "build a minimal bookworm image"; tail -n 40 "$STATE/play.log"; finish
fi
IMAGE="$OUT/debian-12-minimal.qcow2" RECORD="$OUT/debian-12-minimal.build.json"
check "the build changed something" test "$(recap changed)" = 1
check "the qcow2 is a qcow2 of 2 GiB" bash -c "qemu-img info --output=json '$IMAGE' | grep -q '\"virtual-size\": 2147483648'"
check "qemu-img check finds it clean" qemu-img check -q "$IMAGE"
check "the record holds the qcow2's sha256" test "$(pyq "$RECORD" 'd["outputs"]["qcow2"]["sha256"]')" = "$(sha256sum "$IMAGE" | cut -d' ' -f1)"
check "the record holds the qcow2's sha512" test "$(pyq "$RECORD" 'd["outputs"]["qcow2"]["sha512"]')" = "$(sha512sum "$IMAGE" | cut -d' ' -f1)"
check "the record says release came from the var file" \
  test "$(pyq "$RECORD" 'd["variables"]["release"]["source"] + " " + d["variables"]["release"]["value"]')" = "$STATE/debian-12.yml bookworm"
check "the record says output_dir came from the task" test "$(pyq "$RECORD" 'd["variables"]["output_dir"]["source"]')" = task
check "the record says kernel_cmdline is the default" test "$(pyq "$RECORD" 'd["variables"]["kernel_cmdline"]["source"]')" = default
check "the record lists cloud-init's version" test -n "$(pyq "$RECORD" 'd["packages"].get("cloud-init", "")')"
check "the record names the mirror" test "$(pyq "$RECORD" 'd["mirror"]')" = "$MIRROR"
check "no working directory is left" bash -c "! ls -A '$OUT' | grep -q '^\\.image_build-'"

# image-builder's options, as the build saw them.
check "extra_debs: imageops-marker from the extra repository is installed" \
  test "$(pyq "$RECORD" 'd["packages"].get("imageops-marker", "")')" = 1.0
check "disable_public_repos: apt took hello from the extra repository, not Debian's newer one" \
  test "$(pyq "$RECORD" 'd["packages"].get("hello", "")')" = 0.1+imageops
check "containerd is installed for the container images" test -n "$(pyq "$RECORD" 'd["packages"].get("containerd", "")')"
check "the record says extra_debs came from the image-builder var file" \
  test "$(pyq "$RECORD" 'd["variables"]["extra_debs"]["source"]')" = "$STATE/image-builder.json"
mirror_host=$(printf '%s' "$MIRROR" | sed -E 's#^https?://([^/:]+).*#\1#')
check "http_proxy: the mirror was reached through the proxy" grep -q "$mirror_host" "$STATE/proxy.log"
check "no_proxy: loopback was reached directly, not through the proxy" bash -c "! grep -E 'Request.*(GET|CONNECT) .*127\.0\.0\.1' '$STATE/proxy.log'"
check "the extra repository was read" grep -qE 'GET /repo/(\./)?Packages' "$WWW_LOG"
check "the URL image and the executable were downloaded" bash -c "grep -q 'GET /images/url-image.tar' '$WWW_LOG' && grep -q 'GET /bin/imageops-hello' '$WWW_LOG'"
check "progress: the build log shows each stage with its elapsed time" \
  grep -qE '^image_build debian-12-minimal \[ *[0-9]+\.[0-9]s\] bootstrap: node_custom_roles_post$' "$OUT/debian-12-minimal.build.log"

build
check "a second run builds nothing (changed=0)" test "$(recap changed)" = 0
check "... and leaves the image alone" test "$(pyq "$RECORD" 'd["outputs"]["qcow2"]["sha256"]')" = "$(sha256sum "$IMAGE" | cut -d' ' -f1)"

# Boot: OVMF, TCG, the image (snapshot: the file is not written) and a NoCloud seed.
MARKER="imageops-image-build-$RANDOM$RANDOM"
cat >"$STATE/user-data" <<YAML
#cloud-config
runcmd:
  - [sh, -c, "cat /etc/imageops-post-role /etc/imageops-sealed-role > /dev/ttyS0"]
  - [sh, -c, "cat /usr/share/imageops-marker/marker > /dev/ttyS0"]
  - [sh, -c, "/usr/local/bin/imageops-hello $MARKER > /dev/ttyS0"]
  - [sh, -c, "ctr --namespace k8s.io images list --quiet | sed 's/^/containerd-image: /' > /dev/ttyS0"]
  - [sh, -c, "ls -d /etc/apt/sources.list /etc/apt/sources.list.d/* /etc/apt/*.disabled 2>/dev/null | sed 's/^/apt-source: /' > /dev/ttyS0"]
  - [sh, -c, "grep -rls 127.0.0.1:$PROXY_PORT /etc | sed 's/^/proxy-left: /' > /dev/ttyS0"]
  - [sh, -c, "echo $MARKER > /dev/ttyS0"]
YAML
printf 'instance-id: iid-%s\nlocal-hostname: built\n' "$MARKER" >"$STATE/meta-data"
mkfs.vfat -C -n CIDATA "$STATE/seed.img" 2048 >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$STATE/seed.img" "$STATE/user-data" "$STATE/meta-data" ::/
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$STATE/vars.fd"
qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -smp 1 -display none -no-reboot -nic none \
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,file="$STATE/vars.fd" \
  -drive file="$IMAGE",format=qcow2,if=virtio,snapshot=on \
  -drive file="$STATE/seed.img",format=raw,if=virtio,readonly=on \
  -serial file:"$STATE/serial.log" >"$STATE/qemu.log" 2>&1 &
qemu_pid=$!
start=$SECONDS
# cloud-init prints the datasource it used when it finishes, a moment after the marker.
booted() { grep -q "^$MARKER" "$STATE/serial.log" && grep -q "finished at.*DataSourceNoCloud" "$STATE/serial.log"; } 2>/dev/null
until booted; do
  if ! kill -0 "$qemu_pid" 2>/dev/null || [ $((SECONDS - start)) -ge "$BOOT_TIMEOUT" ] || stalled "$STATE/serial.log"; then break; fi
  sleep 2
done
if grep -q "^$MARKER" "$STATE/serial.log" 2>/dev/null; then
  suite_pass "UEFI boot under TCG: cloud-init ran the NoCloud seed's runcmd ($((SECONDS - start)) s): $(grep -m1 "^$MARKER" "$STATE/serial.log")"
else
  suite_fail "UEFI boot under TCG: no marker on the serial console after $((SECONDS - start)) s (bounds: $BOOT_TIMEOUT s, $BOOT_STALL s without output); the console:"
  cat "$STATE/qemu.log"; tail -n 80 "$STATE/serial.log"
fi
check "cloud-init says it used the NoCloud seed: $(grep -m1 -o "finished at.*DataSourceNoCloud[^ ]*" "$STATE/serial.log")" \
  grep -q "finished at.*DataSourceNoCloud" "$STATE/serial.log"
# The serial console ends lines with CR LF. grep reads a process substitution: in a pipe,
# with pipefail, tr killed by SIGPIPE (grep -q stops at the first match while the VM still
# writes) would fail the check.
console() { grep -q "$1" <(tr -d '\r' <"$STATE/serial.log"); }
check "node_custom_roles_post: the booted system shows the post role's file, written after the pre role and extra_debs: $(grep -m1 -o 'imageops-post-role: .*' "$STATE/serial.log")" \
  console "^imageops-post-role: pre-ran-on-bookworm marker-deb=True extra-repo=True proxy=True"
check "node_custom_roles_post_sysprep: its role ran after the sysprep removed the extra repository: $(grep -m1 -o 'imageops-sealed-role: .*' "$STATE/serial.log")" \
  console "^imageops-sealed-role: pre-ran-on-bookworm marker-deb=True extra-repo=False proxy=True"
check "extra_debs: the booted system has the package's file" console "^imageops-marker installed from the extra repository"
check "additional_executables: the executable runs from /usr/local/bin" console "^imageops-hello says $MARKER"
check "additional_registry_images: containerd holds $REGISTRY_IMAGE at first boot" console "^containerd-image: $REGISTRY_IMAGE\$"
check "additional_url_images: containerd holds the URL image at first boot" console "^containerd-image: docker.io/imageops/url-image:v1"
check "apt sources: the public sources.list is enabled again" console "^apt-source: /etc/apt/sources.list\$"
check "apt sources: remove_extra_repos removed the extra repository" bash -c "! grep -q 'apt-source: .*imageops-test' '$STATE/serial.log'"
check "apt sources: nothing is left disabled" bash -c "! grep -q 'apt-source: .*\.disabled' '$STATE/serial.log'"
check "the proxy is not left in the image's /etc" bash -c "! grep -q '^proxy-left:' '$STATE/serial.log'"
kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null; qemu_pid=
finish
