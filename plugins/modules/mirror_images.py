#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary mirror_images_<os>_<arch>
# beside this file, built by `make build`; plugins/action/mirror_images.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mirror_images
short_description: Copy container images to a private registry, each distinct image once
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Copies every image of I(images) to I(registry), in process and several at a time
    (I(jobs)), the way C(crane copy) does but without one process per image.
  - Each distinct source is copied once, however many names point at it.
  - Before copying, the target is asked for its digest (one HEAD request), at the same time as
    the source when the reference is not pinned by digest. When the target already has the
    source's digest the image is skipped and nothing is read or written, so a second run
    reports C(changed=false).
  - A layer that the run already copied to another repository of the target registry (images
    built on the same base share layers) is mounted from there, one request and no bytes;
    images copied at the same time wait for each other's uploads rather than uploading twice.
    Any other layer is offered to the target as a mount from the image's own repository, one
    request that links it when the repository has it and otherwise opens the upload, which one PUT
    of its bytes completes; for an image replacing another at its tag each layer is asked for with
    a HEAD first (a registry that ignored the offer would otherwise get layers it has again).
  - C(stats) in the result counts the requests made, by kind, with the time they took, and each
    image has its time.
  - The whole image is copied, a multi-platform index with every platform, so every digest is
    the same at the source and at the target. I(platforms) restricts an index to some platforms.
  - A reference with both a tag and a digest (C(repo:tag@sha256:...)) copies the image of that
    digest, sets the tag at the target, and checks after the copy that the target's tag has that
    digest. Every copy is checked that way against the source's digest.
  - A reference with only a digest (C(repo@sha256:...)) is tagged C(sha256-<hex>) at the target
    (the digest with C(:) replaced by C(-)), so that a registry's garbage collection of untagged
    manifests (C(registry garbage-collect --delete-untagged)) cannot remove it; crane would tag it
    C(latest), overwriting another image's C(latest). The manifest still pins the digest.
  - Requests answered with 408, 429 or 5xx, and temporary network errors, are retried with
    exponential back-off. An image that fails does not stop the others; the module fails at the
    end, listing every failure with its reason (auth, not found, network, tls, ...).
  - Credentials come from I(registry_auth), then from the Docker configuration of the user
    running the module (C($DOCKER_CONFIG/config.json) or C(~/.docker/config.json), with its
    credential helpers), else anonymous access. They never appear in results or messages.
  - In check mode the module reads digests only and lists in C(copied_images) what it would copy.
    With C(--diff) it shows each target's digest before and after.
options:
  images:
    description:
      - The images to copy. A list of references, or a dict of name to reference (such as
        Atmosphere's C(atmosphere_images) or a C(container_images) dict); a comma-separated
        string is read as a list.
      - References are parsed as docker does, with Docker Hub's defaults (C(nginx) is
        C(docker.io/library/nginx:latest)).
    type: raw
    required: true
  registry:
    description:
      - The target registry, C(host[:port]), optionally with a path that prefixes every
        repository (C(registry.example.com/openstack)). No scheme.
    type: str
    required: true
  strategy:
    description:
      - How the target repository is named.
      - C(flatten) keeps the last path segment, as Atmosphere does
        (C(quay.io/ceph/ceph:v18) becomes C(<registry>/ceph:v18)).
      - C(path) keeps the repository path (C(<registry>/ceph/ceph:v18)).
      - C(scoped) keeps the source host and path, as C(skopeo sync --scoped) does
        (C(<registry>/quay.io/ceph/ceph:v18)); a port becomes C(_port). It never collides.
      - Two different sources that would be written to the same repository and tag are an error
        that names both; nothing is copied then.
    type: str
    default: flatten
    choices: [flatten, path, scoped]
  platforms:
    description:
      - Empty to copy every platform of a multi-platform image (its digest is kept).
      - Otherwise a list of C(os/arch[/variant]), such as C(linux/amd64); the target gets an index
        with only those platforms, whose digest differs from the source's. Single-platform images
        are copied as they are.
      - An index pinned by digest (C(repo:tag@sha256:...)) that has other platforms too fails with
        reason C(platform), because the filtered copy could not have the pinned digest.
    type: list
    elements: str
    default: []
  jobs:
    description:
      - How many images are copied at the same time; each transfers up to 4 blobs at once.
      - Up to four times as many images have their digests checked at once (small HEAD
        requests), so that a run with nothing to copy takes about one round trip per
        C(4 * jobs) images.
    type: int
    default: 8
  registry_auth:
    description:
      - Credentials per registry, C(host[:port]) (C(docker.io) for Docker Hub) to a dict with
        C(username) and C(password), or with C(token) (a registry bearer token).
      - Applies to sources and targets alike. Registries not listed use the Docker
        configuration's credentials or none.
      - The C(password) and C(token) values are C(no_log), hidden wherever they would appear in the
        task's output; usernames stay visible.
    type: dict
  insecure_registries:
    description:
      - Registries (C(host[:port])) that may be reached over plain HTTP, or over TLS without
        verifying the certificate.
    type: list
    elements: str
    default: []
  ca_cert:
    description:
      - A PEM file of CA certificates trusted for every registry, besides the system's.
      - The environment variables C(SSL_CERT_FILE) and C(SSL_CERT_DIR) also work.
    type: path
    aliases: [cacert]
attributes:
  check_mode:
    support: full
    description: Reads both registries and reports what would be copied; copies nothing.
  diff_mode:
    support: full
    description: One line per image copied, C(target digest), before and after.
  platform:
    support: full
    platforms: posix
    description: Linux targets, amd64 and arm64; the build for the host the module runs on (the delegated host with C(delegate_to)) is picked.
notes:
  - Runs on the target host (usually C(localhost)), which must reach both registries.
seealso:
  - module: imageops.cloud.image_manifest
"""

EXAMPLES = r"""
- name: Mirror every image of the deployment to the private registry
  imageops.cloud.mirror_images:
    images: "{{ container_images }}"
    registry: registry.example.com/openstack
    registry_auth:
      registry.example.com:
        username: mirror
        password: "{{ vault_registry_password }}"
  register: mirrored

- name: Show what was copied
  ansible.builtin.debug:
    msg: "{{ mirrored.copied_images | map(attribute='target') | list }}"

- name: A few images, amd64 only, to a plain-HTTP lab registry
  imageops.cloud.mirror_images:
    images:
      - quay.io/ceph/ceph:v18.2.1
      - docker.io/library/memcached:1.6
    registry: 10.0.0.5:5000
    strategy: path
    platforms: [linux/amd64]
    insecure_registries: [10.0.0.5:5000]
"""

RETURN = r"""
copied_images:
  description:
    - The images copied (in check mode, that would be copied), one entry per distinct image,
      sorted by source.
    - C(digest) is the manifest or index digest the target now has.
  returned: always
  type: list
  elements: dict
  sample:
    - source: quay.io/ceph/ceph:v18.2.1
      target: registry.example.com/openstack/ceph:v18.2.1
      digest: sha256:6f0c...
      names: [ceph, ceph_mon]
      seconds: 4.21
skipped_images:
  description: The images whose target already had the same digest; nothing was read or written.
  returned: always
  type: list
  elements: dict
  sample:
    - source: docker.io/library/memcached:1.6
      target: registry.example.com/openstack/memcached:1.6
      digest: sha256:1b2a...
      names: [memcached]
failed_images:
  description:
    - The images that could not be copied, each with C(reason) (C(auth), C(not found),
      C(network), C(tls), C(rate limited), C(server error), C(digest mismatch), C(platform),
      C(error)) and C(msg).
    - The three lists are named C(*_images) because Ansible reads C(skipped) and C(failed) in a
      result as the task's own status.
  returned: always
  type: list
  elements: dict
  sample:
    - source: quay.io/vexxhost/nova:2024.1
      target: registry.example.com/openstack/nova:2024.1
      digest: ""
      names: [nova_api]
      reason: not found
      msg: "reading quay.io/vexxhost/nova:2024.1: ... MANIFEST_UNKNOWN ..."
stats:
  description:
    - Where the run's time went. C(seconds) is its wall time, C(jobs) the copy slots it had.
    - C(requests) counts the HTTP requests sent to the registries and their token services, by
      kind; C(ping) (the version check before authentication, answered once per registry and
      scheme for the run), C(token), C(manifest HEAD), C(manifest GET), C(manifest PUT),
      C(blob HEAD), C(blob GET), C(upload) (each POST, PATCH or PUT of a blob upload), C(mount)
      (a layer the registry linked from another repository without its bytes),
      C(mount refused), C(other).
    - C(request_seconds) is the time the requests of each kind took, added up (from sending to the
      end of the answer; requests run at once, so the sum exceeds the wall time).
    - C(connections) is how many connections those requests opened (the others reused one), and
      C(protocols) counts the responses by protocol; HTTP/2 (C(HTTP/2.0)) is used wherever a
      registry offers it over TLS.
    - Each entry of C(copied_images), C(skipped_images) and C(failed_images) also has
      C(seconds), the time spent on that image (digest checks, copy, verification; not the wait
      for a copy slot).
  returned: always
  type: dict
  sample:
    seconds: 1.9
    jobs: 8
    requests:
      ping: 4
      manifest HEAD: 219
    request_seconds:
      ping: 0.004
      manifest HEAD: 3.1
    connections: 41
    protocols:
      HTTP/2.0: 223
"""
