"""Test-only (run as python3 atmosphere_like.py MODE): prints an image list shaped like Atmosphere's `atmosphere_images` (232 names over
126 distinct references, in the forms its list uses: OpenStack images as tag@digest shared by
several names, upstream images by tag, nested paths, Docker Hub, a digest-only reference, and a
reference without tag), as YAML.

  atmosphere_like.py inventory   atmosphere_images: {name: reference}  (an inventory's file)
  atmosphere_like.py vars        Atmosphere's roles/defaults/vars layout: _atmosphere_images with
                                 "{{ atmosphere_image_prefix }}" and atmosphere_images combining
                                 atmosphere_image_overrides
"""
import hashlib
import sys

import yaml


def digest(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def images():
    out = {}
    services = ["barbican", "cinder", "designate", "glance", "heat", "horizon", "ironic", "keystone",
                "magnum", "manila", "neutron", "nova", "octavia", "placement", "staffeln", "tempest",
                "aodh", "ceilometer", "gnocchi", "masakari", "zun", "kuryr", "blazar", "cyborg",
                "trove", "watcher", "senlin", "mistral", "zaqar", "freezer"]
    for svc in services:
        ref = "ghcr.io/vexxhost/%s:main@%s" % (svc, digest(svc))
        for role in ("api", "db_sync", "worker", "bootstrap"):
            out["%s_%s" % (svc, role)] = ref
    shared = "ghcr.io/vexxhost/heat:2024.1@%s" % digest("heat-shared")
    for job in ("db_drop", "db_init", "ks_endpoints", "ks_service", "ks_user", "rabbit_init",
                "image_repo_sync", "helm_tests", "dep_init", "bootstrap", "job_init", "dep_wait"):
        out[job] = shared
    upstream = [
        "quay.io/prometheus/alertmanager:v0.27.0",
        "quay.io/ceph/ceph:v18.2.7",
        "ghcr.io/vexxhost/charts/cert-manager:v1.15.5",
        "quay.io/jetstack/cert-manager-cainjector:v1.15.5",
        "registry.k8s.io/cluster-api/cluster-api-controller:v1.13.2",
        "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.10.0",
        "us-docker.pkg.dev/vexxhost-infra/openstack/heat:wallaby",
        "docker.io/bitnamilegacy/valkey:8.0.2-debian-12-r4",
        "docker.io/library/haproxy:2.5",
        "ghcr.io/carvel-dev/secretgen-controller@%s" % digest("secretgen"),
        "k8s.gcr.io/ingress-nginx/controller:v1.1.1@%s" % digest("ingress"),
        "docker.io/library/busybox",
    ]
    for i in range(95 - len(upstream)):
        upstream.append("registry.k8s.io/sig-%d/component-%02d:v1.%d.%d" % (i % 4, i, i % 7, i))
    for i, ref in enumerate(upstream):
        out["upstream_%02d" % i] = ref
    for i in range(5):  # names sharing an upstream image, as cilium_node and cilium_operator do
        out["upstream_%02d_alias" % i] = upstream[i]
    return out


def main():
    imgs = images()
    assert len(imgs) == 232 and len(set(imgs.values())) == 126, (len(imgs), len(set(imgs.values())))
    docs = {
        "inventory": {"atmosphere_images": imgs},
        "vars": {
            "_atmosphere_images": {k: "{{ atmosphere_image_prefix }}" + v for k, v in imgs.items()},
            "atmosphere_images": "{{ _atmosphere_images | combine(atmosphere_image_overrides, recursive=True) }}",
        },
    }
    if len(sys.argv) != 2 or sys.argv[1] not in docs:
        sys.exit(__doc__)
    yaml.safe_dump(docs[sys.argv[1]], sys.stdout, default_flow_style=False, width=1000)


main()
