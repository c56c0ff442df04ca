#!/usr/bin/env bash
# Integration suite for image_convert: the binary `make` builds, run by real
# ansible-playbook / ansible on localhost (connection local, no facts, so the
# action plugin finds the platform with `uname -sm`), on a real ext4 disk image
# made with mkfs.ext4 -d from real files. Also checks that ansible-doc renders
# the module and that `ansible-doc -l imageops.cloud` still works with the
# imageops_linux_<arch> binaries lying in plugins/modules.
# Prints "image_convert: N passed, N failed" last; exits non-zero on failure;
# removes every file it made.
set -uo pipefail
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$repo" || exit 1
STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-ci-convert.XXXXXX")
trap 'rm -rf "$STATE"' EXIT
finish() { suite_finish image_convert; exit; }

# The multi-call binary for this machine, through the Makefile's own rule.
suite_make "$STATE/make.log" || finish
suite_ansible_temp "$STATE"

# A real disk image: an ext4 filesystem holding real documentation files.
mkdir -p "$STATE/content" "$STATE/images"
cp -r /usr/share/doc/qemu-utils /usr/share/common-licenses "$STATE/content/"
SRC="$STATE/images/disk.raw"
mkfs.ext4 -q -F -d "$STATE/content" "$SRC" 32M >/dev/null || { suite_fail "mkfs.ext4 -d"; finish; }
SIZE=$((32 * 1024 * 1024))

# adhoc JSON_ARGS [ansible flags]: run the module once; its host result goes to $STATE/result.json.
adhoc() {
  ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=json \
    ansible localhost -m imageops.cloud.image_convert -a "$1" "${@:2}" >"$STATE/adhoc.json" 2>"$STATE/adhoc.err"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["plays"][0]["tasks"][0]["hosts"]["localhost"]))' \
    "$STATE/adhoc.json" >"$STATE/result.json" 2>/dev/null || echo '{}' >"$STATE/result.json"
}
res() { pyq "$STATE/result.json" "$1"; }
play() { ansible-playbook -i localhost, "$@" >"$STATE/play.log" 2>&1; } # its output in play.log
recap() { grep -E '^localhost +:' "$STATE/play.log" | grep -oE "$1=[0-9]+" | cut -d= -f2; }
no_temp_files() { [ -z "$(find "$STATE/images" -name '.*.tmp')" ]; }

# --- convert, then again, through a playbook without facts -------------------
cat >"$STATE/convert.yml" <<YAML
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Convert the raw image to qcow2
      imageops.cloud.image_convert:
        src: $SRC
        dest: $STATE/images/disk.qcow2
        dest_format: qcow2
      register: converted
    - name: The result describes the image
      ansible.builtin.assert:
        that:
          - converted.format == "qcow2"
          - converted.src_format == "raw"
          - converted.virtual_size == $SIZE
          - converted.actual_size > 0
          - converted.dest == "$STATE/images/disk.qcow2"
YAML
play "$STATE/convert.yml"
check "the first run converts (changed=$(recap changed), failed=$(recap failed))" \
  [ "$(recap changed)/$(recap failed)" = 1/0 ]
check "dest holds the same data as src (qemu-img compare)" \
  qemu-img compare -q -f raw -F qcow2 "$SRC" "$STATE/images/disk.qcow2"
check "dest is a qcow2 image" bash -c "qemu-img info '$STATE/images/disk.qcow2' | grep -q 'file format: qcow2'"
before=$(stat -c %Y.%y "$STATE/images/disk.qcow2")
play "$STATE/convert.yml"
check "the second run changes nothing (changed=$(recap changed), failed=$(recap failed))" \
  [ "$(recap changed)/$(recap failed)" = 0/0 ]
check "the second run leaves dest alone" [ "$(stat -c %Y.%y "$STATE/images/disk.qcow2")" = "$before" ]
check "no temporary file is left" no_temp_files

# --- check mode and diff --------------------------------------------------------
sed -e "s|disk.qcow2|disk.vmdk|; s|dest_format: qcow2|dest_format: vmdk|; s|== \"qcow2\"|== \"vmdk\"|" \
  -e '/actual_size > 0/d' "$STATE/convert.yml" >"$STATE/check.yml"
play "$STATE/check.yml" --check --diff
check "check mode reports a change (changed=$(recap changed), failed=$(recap failed))" \
  [ "$(recap changed)/$(recap failed)" = 1/0 ]
check "check mode writes nothing" [ ! -e "$STATE/images/disk.vmdk" ]
check "--diff shows the format to be written" grep -qE '^\+ +"format": "vmdk"' "$STATE/play.log"
adhoc "{\"src\": \"$SRC\", \"dest\": \"$STATE/images/disk.vmdk\", \"dest_format\": \"vmdk\"}" --check
check "check mode says why: $(res 'd.get("msg")')" [ "$(res 'd.get("msg")')" = "would convert: dest does not exist" ]
check "still nothing written" [ ! -e "$STATE/images/disk.vmdk" ]

# --- bad input ------------------------------------------------------------------
adhoc "{\"src\": \"$SRC\", \"dest\": \"$STATE/images/x.qcow2\", \"dest_format\": \"qcow2\", \"foo\": 1}"
want="Unsupported parameters for (imageops.cloud.image_convert) module: foo. Supported parameters include: compress, dest, dest_format, force, src, src_format."
check "an unknown option fails with Ansible's message" [ "$(res 'd.get("msg")')" = "$want" ]
adhoc "{\"src\": \"$SRC\", \"dest\": \"$STATE/images/x.qcow2\", \"dest_format\": \"qcow2\", \"compress\": \"sometimes\"}"
want="argument 'compress' is of type str (value \"sometimes\") and we were unable to convert to bool: expected a boolean (true/false, yes/no, on/off, 1/0)"
check "a wrong type fails naming the option and the value" [ "$(res 'd.get("msg")')" = "$want" ]
adhoc "{\"src\": \"$SRC\", \"dest\": \"$STATE/images/x.qcow2\", \"dest_format\": \"qcow3\"}"
check "a wrong dest_format lists the choices" \
  [ "$(res 'd.get("msg")')" = "value of dest_format must be one of: raw, qcow2, qed, vdi, vhdx, vmdk, vpc, vhd, got: qcow3" ]
adhoc "{\"src\": \"$SRC\", \"dest\": \"$STATE/images/x.vdi\", \"dest_format\": \"vdi\", \"src_format\": \"qcow2\"}"
check "a wrong src_format fails with qemu-img's message" \
  bash -c "grep -q 'Image is not in qcow2 format' '$STATE/result.json' && grep -q '\"failed\": true' '$STATE/result.json'"
check "failures leave neither dest nor temporary files" bash -c "[ ! -e '$STATE/images/x.qcow2' ] && [ ! -e '$STATE/images/x.vdi' ]"
check "and no temporary file" no_temp_files

# --- ansible-doc ----------------------------------------------------------------
ansible-doc imageops.cloud.image_convert >"$STATE/doc.txt" 2>"$STATE/doc.err"
check "ansible-doc imageops.cloud.image_convert exits 0" [ $? -eq 0 ]
check "ansible-doc shows every option" \
  bash -c "for o in src dest dest_format src_format compress force; do grep -qE \"^[=-] \$o\$\" '$STATE/doc.txt' || exit 1; done"
ansible-doc -l imageops.cloud >"$STATE/list.txt" 2>"$STATE/list.err"
check "ansible-doc -l imageops.cloud exits 0" [ $? -eq 0 ]
check "ansible-doc -l lists image_convert" grep -q '^imageops.cloud.image_convert ' "$STATE/list.txt"
check "ansible-doc -l lists no imageops_linux_<arch> binary as a module" bash -c "! grep -q '_linux_' '$STATE/list.txt'"
# The binaries are links into bin/, which ansible-doc's listing skips: no warning per binary.
check "ansible-doc -l warns about no binary" bash -c "! grep -q '_linux_' '$STATE/list.err'"

finish
