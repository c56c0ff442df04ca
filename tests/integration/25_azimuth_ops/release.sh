#!/usr/bin/env bash
# Lays out an azimuth-images release on disk for the azimuth_ops suite, as
# azimuth-images publishes one: image files named after their builds' images
# and manifest.json as bin/generate-manifest writes it (an object keyed by
# build name; name, url, checksum, checksum_sha512, cosign-bundle-url,
# image-sbom-url, and kubernetes_version for Kubernetes images). Every image
# is the real qcow2 disk of scripts/fixtures.sh, linked under its name, so the
# release costs no space. The Slurm image is linked beside them under the name
# the role's default community_images_slurm names.
#
#   release.sh FIXTURES_DIR RELEASE_DIR BASE_URL
#
# RELEASE_DIR/manifest.json: the current release (0.34.0's builds)
# RELEASE_DIR/old/manifest.json: an older release (kubernetes-1-28-jammy), for capi-mgmt
set -euo pipefail
fixtures=$(realpath "$1")
release=$2
base=$3
mkdir -p "$release/old"
sha256=sha256:$(sha256sum "$fixtures/disk.qcow2" | cut -d' ' -f1)
sha512=sha512:$(sha512sum "$fixtures/disk.qcow2" | cut -d' ' -f1)

# entry BUILD IMAGE_NAME [KUBERNETES_VERSION] [SUBDIR]: one manifest entry, its image linked.
entry() {
  local build=$1 name=$2 kube=${3:-} dir=${4:-} url
  url=$base/${dir:+$dir/}$name.qcow2
  ln -sfn "$fixtures/disk.qcow2" "$release/${dir:+$dir/}$name.qcow2"
  printf '    "%s": {\n' "$build"
  printf '        "name": "%s",\n        "url": "%s",\n' "$name" "$url"
  printf '        "checksum": "%s",\n        "checksum_sha512": "%s",\n' "$sha256" "$sha512"
  printf '        "cosign-bundle-url": "%s",\n' "${url%.qcow2}.cosign.bundle"
  printf '        "image-sbom-url": "%s"' "${url%.qcow2}-sbom.json"
  [ -z "$kube" ] || printf ',\n        "kubernetes_version": "%s"' "$kube"
  printf '\n    }'
}

{
  echo "{"
  entry ubuntu-desktop azimuth-ops-ubuntu-noble-desktop-260810-1201
  echo ","
  entry jupyter-repo2docker azimuth-ops-ubuntu-noble-jupyter-repo2docker-260810-1201
  echo ","
  entry linux-rstudio azimuth-ops-ubuntu-noble-linux-rstudio-260810-1201
  echo ","
  entry kubernetes-1-34-noble azimuth-ops-ubuntu-noble-kube-v1.34.10-260810-1201 v1.34.10
  echo ","
  entry kubernetes-1-35-noble azimuth-ops-ubuntu-noble-kube-v1.35.7-260810-1201 v1.35.7
  echo ","
  # A build azimuth-ops does not upload.
  entry flatcar-kube-1-35 azimuth-ops-flatcar-kube-v1.35.7-260810-1201
  printf '\n}\n'
} >"$release/manifest.json"

{
  echo "{"
  entry kubernetes-1-28-jammy azimuth-ops-ubuntu-jammy-kube-v1.28.9-240501-0954 v1.28.9 old
  echo ","
  entry kubernetes-1-29-jammy azimuth-ops-ubuntu-jammy-kube-v1.29.4-240501-0954 v1.29.4 old
  echo ","
  entry ubuntu-desktop azimuth-ops-ubuntu-jammy-desktop-240501-0954 "" old
  printf '\n}\n'
} >"$release/old/manifest.json"

# The fixtures themselves (SHA256SUMS, not-an-image.txt, ...), for the checksum and error steps.
ln -sfn "$fixtures" "$release/fixtures"

# The Slurm image under the name of the role's default community_images_slurm.
ln -sfn "$fixtures/disk.qcow2" "$release/openhpc-RL9-260818-0723-3f645271"
