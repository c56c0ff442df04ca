# Test-only: Atmosphere's documented rewrite of an image reference for its image manifest
# (its image_manifest role maps every value through vexxhost.kubernetes.docker_image('ref',
# registry=...)): with a registry, the reference becomes <registry>/<last path segment>, keeping
# its tag and digest; without one it stays as it is. Written from that rule, independently of
# the collection's Go code, to produce the file Atmosphere would write.
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def atmosphere_rule(reference, registry=None):
    if not registry:
        return reference
    name, at, digest = reference.partition("@")
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > last_slash:
        name, tag = name[:colon], name[colon:]
    return registry + "/" + name.split("/")[-1] + tag + at + digest


class FilterModule(object):
    def filters(self):
        return {"atmosphere_rule": atmosphere_rule}
