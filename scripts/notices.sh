#!/usr/bin/env bash
# Writes, on stdout, the licence texts of everything linked into the module binaries: the Go
# standard library and each Go module that gomodules/cmd/imageops depends on (their LICENSE,
# COPYING and NOTICE files, as the Apache-2.0, BSD and MIT licences ask of binary
# distributions). `make build` keeps the result as THIRD_PARTY_NOTICES, which the collection
# artifact carries beside the binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}

notice() { # name, directory
  local file
  printf '%s\n\n' "================================================================================"
  printf '%s\n\n' "$1"
  for file in "$2"/LICENSE* "$2"/LICENCE* "$2"/COPYING* "$2"/NOTICE*; do
    [ -f "$file" ] && { cat "$file"; printf '\n'; }
  done
  return 0
}

echo "The module binaries in plugins/modules (imageops_linux_<arch>) are built from this"
echo "collection's Go sources (GPL-3.0-or-later, see LICENSE) and contain the following."
echo
notice "Go standard library ($("$go" env GOVERSION))" "$("$go" env GOROOT)"
"$go" list -deps -f '{{if .Module}}{{.Module.Path}}@{{.Module.Version}} {{.Module.Dir}}{{end}}' ./gomodules/cmd/imageops \
  | sort -u | grep -v '^github.com/imageops/cloud@' \
  | while read -r module dir; do notice "$module" "$dir"; done
