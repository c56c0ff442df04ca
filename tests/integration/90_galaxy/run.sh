#!/usr/bin/env bash
# The collection as Galaxy and a maintainer check it, and as a remote target sees it:
#   lint        ansible-lint --profile production, shellcheck on every script, the changelog
#   sanity      ansible-test sanity, offline (scripts/sanity.sh)
#   artifact    ansible-galaxy collection build: at most 20 MB, both binaries, no developer files
#   install     the artifact installed into a fresh path; a playbook runs a module from it
#   delegation  a task delegated across two platforms (a fact cache makes one host arm64)
#               runs the binary of the host it runs on
#   remote_tmp_variable  remote_tmp $HOME/.ansible/tmp: the cache is found there (one command)
#   group       module_defaults: {group/imageops.cloud.openstack: ...} reaches the modules
#   transfer    over SSH to a real sshd on 127.0.0.1: bytes sent by the first task and by
#               later ones (the target's copy of the binary, checked by hash); a corrupt or
#               missing copy is sent again; a task whose copy is there runs ONE remote command
#               and puts no file (a regression to Ansible's several commands per task shows)
#   become_async  over SSH, with become and with async (Ansible's own path, temporary
#               directory and args file): the cached copy runs, nothing is sent again
# Everything it starts (sshd) it stops by PID; everything it writes is in a temporary directory.
# GALAXY_SKIP="sanity lint" skips steps (for a quick run by hand).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$repo" || exit 1
# shellcheck source=../lib.sh
source "$repo/tests/integration/lib.sh"
state=$(mktemp -d "${TMPDIR:-/tmp}/imageops-galaxy.XXXXXX")
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  sshd_stop "$state/ssh"
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
suite_init "$repo/build/galaxy-logs"
export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
readonly max_artifact_bytes=20000000 # Galaxy refuses uploads over 20 MB
skipped() { [[ " ${GALAXY_SKIP:-} " == *" $1 "* ]]; }

make -s build >"$suite_log/make.log" 2>&1 || { cat "$suite_log/make.log"; exit 1; }
# The modules, named after their documentation (the Go tests keep it equal to what the binary
# registers; ipa_test's wiring file is ipatest.go, since Go reads *_test.go as tests).
modules=$(sed -n 's|^plugins/modules/\(.*\)\.py$|\1|p' < <(git ls-files 'plugins/modules/*.py'))
arch=$(uname -m)
case $arch in x86_64) goarch=amd64 other=arm64 other_machine=aarch64 ;; aarch64) goarch=arm64 other=amd64 other_machine=x86_64 ;; esac

# --- lint -----------------------------------------------------------------------------------
ansible_lint() { ansible-lint --nocolor --profile production; }
shellcheck_all() { git ls-files -z --cached --others --exclude-standard '*.sh' | xargs -0 shellcheck; }
changelog() { python3 scripts/changelog.py --check; }
skipped lint || { step ansible_lint ansible_lint; step shellcheck shellcheck_all; step changelog changelog; }
skipped sanity || step sanity scripts/sanity.sh

# --- artifact ---------------------------------------------------------------------------------
artifact_built() {
  local tarball size listing
  ansible-galaxy collection build "$repo" --output-path "$state/dist" --force || return 1
  tarball=$(ls "$state"/dist/imageops-cloud-*.tar.gz) && size=$(stat -c %s "$tarball") || return 1
  listing=$(tar tzvf "$tarball") || return 1
  echo "artifact: $tarball, $size bytes (at most $max_artifact_bytes)"
  [ "$size" -le "$max_artifact_bytes" ] || { echo "the artifact is over 20 MB"; return 1; }
  for platform in amd64 arm64; do # the binaries, as files, and their links in plugins/modules
    if ! grep -Eq "^-rwx.* bin/imageops_linux_$platform$" <<<"$listing" ||
      ! grep -Eq " plugins/modules/imageops_linux_$platform -> ../../bin/imageops_linux_$platform$" <<<"$listing"; then
      echo "no linux/$platform binary in the artifact"
      return 1
    fi
  done
  for module in $modules; do
    if ! grep -q " plugins/modules/$module.py$" <<<"$listing" || ! grep -q " plugins/action/$module.py$" <<<"$listing"; then
      echo "module $module is not in the artifact"
      return 1
    fi
  done
  for developers_only in Makefile scripts/ tests/ gomodules/ extensions/ CONTRIBUTING.md go.mod .ansible-lint build/; do
    if grep -q " $developers_only" <<<"$listing"; then echo "the artifact carries $developers_only"; return 1; fi
  done
  for needed in LICENSE THIRD_PARTY_NOTICES CHANGELOG.rst changelogs/changelog.yaml meta/runtime.yml README.md; do
    grep -q " $needed$" <<<"$listing" || { echo "the artifact lacks $needed"; return 1; }
  done
}
step artifact artifact_built

# --- install ----------------------------------------------------------------------------------
# A real disk image to convert: a small ext4 filesystem.
mkdir -p "$state/images" && mkfs.ext4 -q -F "$state/images/disk.raw" 8M >/dev/null
installed_collection_runs() {
  local out
  ansible-galaxy collection install -p "$state/installed" "$state"/dist/imageops-cloud-*.tar.gz || return 1
  cat >"$state/convert.yml" <<EOF
- name: Convert with the installed collection
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Convert the disk to qcow2
      imageops.cloud.image_convert:
        src: $state/images/disk.raw
        dest: $state/images/disk.qcow2
        dest_format: qcow2
EOF
  out=$(ANSIBLE_COLLECTIONS_PATH="$state/installed" ansible-playbook -i localhost, -c local "$state/convert.yml" -vvv 2>&1)
  echo "$out"
  grep -q "Using module file $state/installed/ansible_collections/imageops/cloud/plugins/modules/imageops_linux_$goarch" <<<"$out" &&
    grep -Eq 'localhost +: ok=1 +changed=1 +unreachable=0 +failed=0' <<<"$out" &&
    qemu-img info "$state/images/disk.qcow2" | grep -q '^file format: qcow2' &&
    ANSIBLE_COLLECTIONS_PATH="$state/installed" ansible-doc -l imageops.cloud >"$state/doc-list.txt" 2>&1 &&
    ! grep -q '_linux_\|WARNING' "$state/doc-list.txt" && [ "$(grep -c '^imageops.cloud\.' "$state/doc-list.txt")" -eq "$(wc -w <<<"$modules")" ]
}
step install installed_collection_runs

# --- delegation -------------------------------------------------------------------------------
# Two hosts on this machine (connection local), each with its own remote_tmp and so its own
# copy of the binary: "other" says, through the fact cache, that it is of the other CPU.
mkdir -p "$state/facts"
printf '{"ansible_system": "Linux", "ansible_architecture": "%s"}\n' "$other_machine" >"$state/facts/other"
printf '{"ansible_system": "Linux", "ansible_architecture": "%s"}\n' "$arch" >"$state/facts/this"
cat >"$state/two-platforms.yml" <<EOF
all:
  hosts:
    this: {ansible_connection: local, ansible_remote_tmp: $state/this-tmp, ansible_python_interpreter: /usr/bin/python3}
    other: {ansible_connection: local, ansible_remote_tmp: $state/other-tmp, ansible_python_interpreter: /usr/bin/python3}
EOF
cat >"$state/delegate.yml" <<EOF
- name: A task of the other platform's host, delegated to this one
  hosts: other
  gather_facts: false
  tasks:
    - name: Convert on this host
      imageops.cloud.image_convert:
        src: $state/images/disk.raw
        dest: $state/images/delegated.vdi
        dest_format: vdi
      delegate_to: this
- name: A task of this host, delegated to the other platform's host
  hosts: this
  gather_facts: false
  tasks:
    - name: Convert on the other host
      imageops.cloud.image_convert:
        src: $state/images/disk.raw
        dest: $state/images/other.vdi
        dest_format: vdi
      delegate_to: other
      register: on_other
      ignore_errors: true
    - name: Show what the other host answered
      ansible.builtin.debug:
        msg: "other host: rc={{ on_other.rc | default('none') }} failed={{ on_other.failed }}"
EOF
cached_binary() { find "$1/imageops.cloud-cache" -name 'imageops-*' ! -name '*.ok' -printf '%f\n' 2>/dev/null | sed 's|^imageops-||'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
delegation() {
  local out
  out=$(ANSIBLE_CACHE_PLUGIN=jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="$state/facts" ANSIBLE_CACHE_PLUGIN_TIMEOUT=0 \
    ansible-playbook -i "$state/two-platforms.yml" "$state/delegate.yml" -vvv 2>&1)
  echo "$out"
  # The inventory host says it is of the other CPU; the delegated host (this one) runs ours.
  grep -q "the delegated host this is Linux $arch (from its facts): running imageops.cloud.imageops_linux_$goarch" <<<"$out" &&
    qemu-img info "$state/images/delegated.vdi" | grep -q '^file format: vdi' &&
    [ "$(cached_binary "$state/this-tmp")" = "$(sha "bin/imageops_linux_$goarch")" ] || return 1
  # Delegated to the host whose facts say it is of the other CPU: that CPU's binary is sent and run.
  grep -q "the delegated host other is Linux $other_machine (from its facts): running imageops.cloud.imageops_linux_$other" <<<"$out" &&
    [ "$(cached_binary "$state/other-tmp")" = "$(sha "bin/imageops_linux_$other")" ] || return 1
  if [ -e "/proc/sys/fs/binfmt_misc/qemu-$other_machine" ]; then
    # binfmt_misc runs it through qemu-user-static: the conversion happens.
    qemu-img info "$state/images/other.vdi" | grep -q '^file format: vdi'
  else
    # This kernel cannot run it ("Exec format error", 126): the failure shows it was that binary.
    grep -q '"msg": "other host: rc=126 failed=True"' <<<"$out" && [ ! -e "$state/images/other.vdi" ] &&
      grep -q "imageops.cloud.imageops_linux_$other could not be executed on the delegated host other (exit code 126)" <<<"$out"
  fi
}
step delegation delegation
# The other CPU's binary, as sent to the other host, does the conversion under qemu-user.
other_binary_runs() {
  local copy
  copy="$state/other-tmp/imageops.cloud-cache/imageops-$(sha "bin/imageops_linux_$other")"
  printf '{"src": "%s", "dest": "%s", "dest_format": "vmdk"}\n' "$state/images/disk.raw" "$state/images/qemu.vmdk" >"$state/qemu-args.json"
  "qemu-$other_machine-static" "$copy" image_convert "$state/qemu-args.json" | tee /dev/stderr | grep -q '"changed":true' &&
    qemu-img info "$state/images/qemu.vmdk" | grep -q '^file format: vmdk'
}
command -v "qemu-$other_machine-static" >/dev/null && step other_binary_runs other_binary_runs

# --- a remote_tmp with a variable ---------------------------------------------------------------
# remote_tmp: $HOME/.ansible/tmp (Ansible expands it with the remote shell): the cache is found
# there, and the second task is one command. HOME is the suite's own directory.
remote_tmp_variable() {
  local out run
  mkdir -p "$state/home"
  for run in first second; do
    # shellcheck disable=SC2016 # $HOME is for the remote shell
    out=$(HOME=$state/home ansible -vvv -i localhost, -c local -e 'ansible_remote_tmp=$HOME/.ansible/tmp' \
      -e ansible_python_interpreter=/usr/bin/python3 localhost -m imageops.cloud.image_convert \
      -a "src=$state/images/disk.raw dest=$state/images/home-$run.qcow2 dest_format=qcow2" 2>&1)
    echo "$out" | grep -E '^<localhost> (EXEC|PUT)|CHANGED|FAILED' | cut -c1-200
    grep -q CHANGED <<<"$out" || return 1
  done
  [ "$(grep -c '^<localhost> EXEC' <<<"$out")" -eq 1 ] &&
    [ "$(cached_binary "$state/home/.ansible/tmp")" = "$(sha "bin/imageops_linux_$goarch")" ]
}
step remote_tmp_variable remote_tmp_variable

# --- the openstack action group ---------------------------------------------------------------
cat >"$state/group.yml" <<EOF
- name: module_defaults for the openstack group
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/imageops.cloud.openstack:
      auth_type: none
      image_endpoint_override: http://127.0.0.1:9/
      api_retries: 0
  tasks:
    - name: A module of the group, without connection options
      imageops.cloud.community_image:
        name: group-test
        state: absent
      register: grouped
      ignore_errors: true
    - name: A module outside the group gets none of them
      imageops.cloud.image_convert:
        src: $state/images/disk.raw
        dest: $state/images/group.qcow2
        dest_format: qcow2
    - name: The group's defaults reached the module
      ansible.builtin.assert:
        that:
          - grouped is failed
          - "'in Glance at http://127.0.0.1:9/' in grouped.msg"
EOF
group_defaults() { ran_with 'localhost +: ok=3 +changed=1 +unreachable=0 +failed=0' "$state/group.yml"; }
step module_defaults_group group_defaults

# --- bytes sent to a remote target --------------------------------------------------------------
# A real sshd on 127.0.0.1 (lib.sh's sshd_start); ssh -v -E logs every connection's
# "Transferred: sent N" bytes. Each task makes its own connections (no ControlMaster);
# compression (-C) as in Ansible's default ssh_args.
start_sshd() {
  sshd_start "$state/ssh" || return 1
  cat >"$state/ssh/inventory.yml" <<EOF
all:
  hosts:
    remote:
$(sshd_host_vars "$state/ssh" "-o ControlMaster=no -o ControlPath=none" | sed 's/^/      /')
      ansible_ssh_extra_args: -v -E $state/ssh/client.log
      ansible_ssh_transfer_method: piped
EOF
}
# sent_by_task NAME [ANSIBLE ARGS]: runs image_convert over SSH (-vvv); prints and records the
# bytes ssh sent and the remote commands (SSH: EXEC) and files (PUT) of the task.
sent_by_task() {
  local name=$1 out bytes
  shift
  : >"$state/ssh/client.log"
  out=$(ansible -vvv -i "$state/ssh/inventory.yml" remote -m imageops.cloud.image_convert "$@" \
    -a "src=$state/images/disk.raw dest=$state/images/remote-$name.qcow2 dest_format=qcow2" 2>&1)
  bytes=$(grep -o 'Transferred: sent [0-9]*' "$state/ssh/client.log" | awk '{s += $3} END {print s + 0}')
  printf '%s\n' "$bytes" >"$state/ssh/$name.bytes"
  printf '%s\n' "$(grep -c 'SSH: EXEC' <<<"$out")" >"$state/ssh/$name.commands"
  printf '%s\n' "$(grep -c '^<127.0.0.1> PUT ' <<<"$out")" >"$state/ssh/$name.puts"
  printf '%s\n' "$(grep -c '^<127.0.0.1> PUT .*imageops_linux_' <<<"$out")" >"$state/ssh/$name.binary_puts"
  echo "$name: $bytes bytes sent, $(commands "$name") remote commands, $(puts "$name") files put"
  grep -E 'SSH: EXEC|^<127.0.0.1> PUT ' <<<"$out" | cut -c1-300
  grep -E 'CHANGED|FAILED' -A 12 <<<"$out"
  grep -q 'CHANGED' <<<"$out"
}
commands() { cat "$state/ssh/$1.commands"; }
puts() { cat "$state/ssh/$1.puts"; }
remote_copy() { echo "$state/ssh/home/.ansible/tmp/imageops.cloud-cache/imageops-$(sha "bin/imageops_linux_$goarch")"; }
bytes() { cat "$state/ssh/$1.bytes"; }
transfer() {
  local binary_size
  binary_size=$(stat -c %s "bin/imageops_linux_$goarch")
  sent_by_task first && sent_by_task second && sent_by_task third || return 1
  echo "binary: $binary_size bytes; sent: first task $(bytes first), second $(bytes second), third $(bytes third)"
  # The first task sends the binary (compressed by ssh -C: at least a third of it); later
  # ones send the args and commands only, under a hundredth of the binary.
  [ "$(bytes first)" -gt $((binary_size / 3)) ] && [ "$(bytes second)" -lt $((binary_size / 100)) ] &&
    [ "$(bytes third)" -lt $((binary_size / 100)) ] &&
    [ "$(sha "$(remote_copy)")" = "$(sha "bin/imageops_linux_$goarch")" ] || return 1
  # A task whose copy is there is one remote command (platform, check of the copy, run, with
  # the args on standard input) and puts no file.
  [ "$(commands second)" -eq 1 ] && [ "$(puts second)" -eq 0 ] &&
    [ "$(commands third)" -eq 1 ] && [ "$(puts third)" -eq 0 ] || { echo "a cached task ran more than one command"; return 1; }
  # A corrupt copy (same size, one byte changed) is not run: a fresh one is sent.
  printf 'X' | dd of="$(remote_copy)" bs=1 seek=4096 conv=notrunc status=none
  sent_by_task after_corruption && [ "$(bytes after_corruption)" -gt $((binary_size / 3)) ] &&
    [ "$(sha "$(remote_copy)")" = "$(sha "bin/imageops_linux_$goarch")" ] || return 1
  # A missing copy is sent again; then it is used again.
  rm -f "$(remote_copy)"
  sent_by_task after_removal && [ "$(bytes after_removal)" -gt $((binary_size / 3)) ] &&
    sent_by_task after_resend && [ "$(bytes after_resend)" -lt $((binary_size / 100)) ]
}
# With become (sudo to this same user) and with async, the task takes Ansible's own path
# (temporary directory, args file, chmod, run) with the target's copy linked into it: it runs,
# and sends no binary.
become_async() {
  local binary_size
  binary_size=$(stat -c %s "bin/imageops_linux_$goarch")
  sent_by_task with_become --become && [ "$(bytes with_become)" -lt $((binary_size / 100)) ] &&
    [ "$(commands with_become)" -gt 1 ] || return 1
  # (async_wrapper and async_status are Python modules, sent each time; the binary is not.)
  sent_by_task with_async -B 120 -P 1 -e "ansible_async_dir=$state/ssh/home/.ansible_async" &&
    [ "$(cat "$state/ssh/with_async.binary_puts")" -eq 0 ] &&
    qemu-img info "$state/images/remote-with_async.qcow2" | grep -q '^file format: qcow2' || return 1
  # And the next task is one command again (the copy, linked and chmod-ed, is still taken).
  sent_by_task after_become && [ "$(commands after_become)" -eq 1 ] && [ "$(bytes after_become)" -lt $((binary_size / 100)) ]
}
step sshd start_sshd && step transfer transfer && step become_async become_async
for name in first second third; do [ -s "$state/ssh/$name.bytes" ] && echo "     bytes sent over SSH by the $name task: $(bytes "$name")"; done

suite_finish galaxy
