#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary beside this file, built by `make build`;
# plugins/action/ipa_test.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ipa_test
short_description: Try Ironic Python Agent deploy images on one Ironic node of a type, then restore or push them
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Tests a pair of Ironic Python Agent (IPA) images, a deploy kernel and initramfs in Glance, on
    one bare metal node of a type before the type's nodes use them, as Chameleon's C(ipa_tester)
    (abracadabra's C(site_tools/ipa_tester.py)) does.
  - "The steps: 1. the pair and the test image are looked up and checked in Glance (they must exist
    and be C(active)); Ironic itself would find a missing C(deploy_kernel) or C(deploy_ramdisk)
    only once a deploy has started. 2. One node of I(node_type) is reserved: the first, by name,
    that is C(available), not in maintenance, not allocated and has a power state; nodes of other
    types are never read for this nor changed. 3. The node's C(driver_info) C(deploy_kernel) and
    C(deploy_ramdisk) are set to the pair. 4. I(test_image) is deployed on the node through Ironic
    (C(instance_info) C(image_source), provision state C(active)): the deploy ramdisk boots, calls
    Ironic back and writes the image. The pair passes when the node reaches C(active) within
    I(timeout). 5. The node is undeployed (back to C(available)); without I(push) it gets back
    exactly its previous pair (a key that was absent is removed again); with I(push), after a pass,
    every node of the type gets the pair. 6. The reservation is released."
  - The reservation is Ironic's own allocations API (an allocation named
    C(imageops-ipa-test-<node uuid>) with the node as its only candidate). Chameleon reserves the
    node with a Blazar lease instead; Blazar is not packaged with this collection, so the
    reservation step is replaceable in the Go package (C(ipatest.Reserver)) and a Blazar one can
    take its place.
  - Chameleon creates a Nova server on the reserved node; this module deploys through Ironic
    directly (Nova is not needed, and a failure reports Ironic's own C(last_error)).
  - Every failure after the reservation (a deploy that ends in C(deploy failed), no callback from
    the agent before I(timeout), the node going into maintenance during the deploy, a failed
    undeploy) undeploys the node, gives it back exactly its previous pair and releases the
    reservation; the task then fails with C(failed_step) and Ironic's C(last_error). Maintenance
    set by an operator is left as it is.
  - A killed run is undone by the next run. In the same patch that sets the pair, the run records
    in the node's C(extra) (key C(imageops_ipa_test)) the previous pair, the reservation and the
    run's process (host, boot ID, PID and its start time). A later run on the same machine undoes
    the record of a process that no longer runs; a record from another machine is undone once its
    run's time (I(timeout) plus twice the undeploy bound, 10 minutes) has passed. A node that a
    live run is testing is left alone.
  - With I(push), nodes that answer 409 (locked by a conductor, in a transition) are retried
    with back-off (8 times, from 0.5 seconds doubling up to 15 seconds); those that still refuse are
    listed in C(push_failed) and the task fails after updating all the others. When every node of
    the type already has the pair, nothing is tested and nothing changes.
  - C(changed) reports lasting changes only, the pairs set by I(push) and killed runs undone. A
    test without I(push) leaves every node as it found it and reports C(changed=false) and
    C(tested=true).
options:
  node_type:
    description:
      - The type of the nodes to test, Ironic's C(resource_class).
      - On a Chameleon site the node type (C(compute_skylake), C(gpu_rtx_6000)) is a Blazar host
        property, and a node's Ironic resource class is its hardware's C(baremetal_resource_class)
        (doni's default is the generic C(baremetal)). Give the nodes of each type their type as
        resource class, or name the resource class they share (then any node of it may be tested
        and I(push) sets every node of it). A value that no node has fails, listing the resource
        classes the nodes have.
    type: str
    required: true
  kernel_image:
    description:
      - The deploy kernel to test, a Glance image ID or name (a name must match one image among the
        caller's own, public and shared images).
      - Default, as Chameleon picks it, the most recently created C(active) image whose property
        C(build-ipa) is C(kernel) (as Chameleon's image deployer and
        M(imageops.cloud.image_deployer)'s C(ipa_images) upload them).
    type: str
  initramfs_image:
    description:
      - The deploy ramdisk to test, a Glance image ID or name.
      - Default the most recently created C(active) image whose property C(build-ipa) is
        C(initramfs).
    type: str
  test_image:
    description:
      - The instance image deployed on the node, a Glance image ID or name.
      - Default, as Chameleon's tester deploys, the most recently created C(active) image with the
        properties C(build-distro=ubuntu) and C(build-variant=base).
    type: str
  push:
    description:
      - After a pass, set the pair on every node of I(node_type) (the tested one included)
        instead of restoring the tested node's previous pair.
      - Chameleon's C(--push).
    type: bool
    default: false
  timeout:
    description:
      - Seconds the deploy may take to reach C(active), from the provision request. A node still in
        C(wait call-back) then has had no callback from its agent.
      - Each undeploy has its own bound of 10 minutes.
    type: int
    default: 1200
extends_documentation_fragment:
  - imageops.cloud.openstack
attributes:
  check_mode:
    support: full
    description:
      - Reads Glance and Ironic and writes nothing; C(node) names the node the test would use and
        C(changes) each change it would make (killed runs undone, reservation, pair set, deploy,
        undeploy, restore or push, release). C(changed) is true when a real run would change nodes for
        good (I(push) setting the pair, a killed run undone), so that C(--check --diff) shows the pairs.
  diff_mode:
    support: full
    description: The C(deploy_kernel) and C(deploy_ramdisk) of every node of the type, before and after.
  platform:
    support: full
    platforms: posix
    description: Linux targets, amd64 and arm64; the build for the host the module runs on (the delegated host with C(delegate_to)) is picked.
notes:
  - A static Go binary; the target needs no Python libraries.
  - Ironic is the cloud's C(baremetal) service (from the catalog, or I(baremetal_endpoint_override)
    for a standalone Ironic with I(auth_type=none)); the Bare Metal API version used is 1.52.
  - An Ironic without Keystone (noauth) deploys only public Glance images.
  - The deploy takes as long as a real deploy of the node (boot, image write, reboot); give
    I(timeout) room for the slowest node type.
  - "Switching from Chameleon's ipa_tester: C(--node-type), C(--kernel-image), C(--initramfs-image)
    and C(--push) are I(node_type), I(kernel_image), I(initramfs_image) and I(push); C(--site-yaml)
    is the cloud options. Deliberate differences: the reservation is an Ironic allocation, not a
    Blazar lease; the deploy goes through Ironic, not Nova; a failure fails the task (ipa_tester
    logs it and exits 0); a node that push cannot update fails the task (ipa_tester logs and skips
    it); a node without a previous kernel or ramdisk gets the key removed again (ipa_tester
    removes C(deploy_kernel) in both cases); a killed run is undone by the next."
seealso:
  - module: imageops.cloud.image_deployer
  - module: imageops.cloud.image_cleaner
"""

EXAMPLES = r"""
- name: Test the newest IPA images on one compute_skylake node, as Chameleon's tester does
  imageops.cloud.ipa_test:
    cloud: site-admin
    node_type: compute_skylake
  register: ipa

- name: Test a given pair and, when it passes, use it on every gpu_rtx_6000 node
  imageops.cloud.ipa_test:
    cloud: site-admin
    node_type: gpu_rtx_6000
    kernel_image: ipa-centos9-master.kernel
    initramfs_image: ipa-centos9-master.initramfs
    test_image: CC-Ubuntu22.04
    push: true
    timeout: 2400

- name: A standalone Ironic without Keystone
  imageops.cloud.ipa_test:
    auth_type: none
    image_endpoint_override: http://glance.example.com:9292
    baremetal_endpoint_override: http://ironic.example.com:6385
    node_type: baremetal

- name: Which node would be used, and what would change
  imageops.cloud.ipa_test:
    cloud: site-admin
    node_type: compute_skylake
    push: true
  check_mode: true
  diff: true
"""

RETURN = r"""
passed:
  description: Whether the deploy reached C(active).
  returned: always
  type: bool
tested:
  description: Whether a deploy was made (false in check mode, and with I(push) when every node already had the pair).
  returned: always
  type: bool
node:
  description: The node tested (in check mode, the node that would be), its name or, without one, its UUID.
  returned: when a node was chosen
  type: str
  sample: c01-12
node_uuid:
  description: That node's UUID.
  returned: when a node was chosen
  type: str
kernel_image:
  description: The Glance ID of the deploy kernel tested.
  returned: when the images were found
  type: str
initramfs_image:
  description: The Glance ID of the deploy ramdisk tested.
  returned: when the images were found
  type: str
test_image:
  description: The Glance ID of the image deployed.
  returned: when the images were found
  type: str
failed_step:
  description:
    - The step that failed - C(recover), C(images), C(reserve), C(configure), C(deploy), C(undeploy),
      C(restore), C(push) or C(release).
  returned: on failure
  type: str
  sample: deploy
last_error:
  description: Ironic's C(last_error) of the node after the failed step (or the maintenance reason).
  returned: on failure, when Ironic gave one
  type: str
  sample: "Deploy step deploy.write_image failed on node 1be26c0b-03f2-4d2d-ae87-c02d7f33c123. Image failed to verify against checksum."
restored:
  description: Whether the tested node got its previous pair back (without I(push), or after a failure).
  returned: always
  type: bool
pushed:
  description: The nodes whose pair I(push) changed.
  returned: always
  type: list
  elements: str
push_failed:
  description: The nodes I(push) could not update after its retries, with Ironic's error.
  returned: always
  type: list
  elements: dict
  contains:
    node:
      description: Node name (or UUID).
      type: str
    error:
      description: Ironic's answer.
      type: str
recovered:
  description: Nodes on which a killed earlier run was undone (undeployed, pair restored, reservation released).
  returned: always
  type: list
  elements: str
changes:
  description: What was done, in words, in order; in check mode, what would be.
  returned: always
  type: list
  elements: str
  sample:
    - reserve node c01-12 (Ironic allocation imageops-ipa-test-1be26c0b-03f2-4d2d-ae87-c02d7f33c123)
    - set node c01-12 driver_info deploy_kernel 5a0e... and deploy_ramdisk 0c41...
diff:
  description: The C(deploy_kernel) and C(deploy_ramdisk) of every node of the type, before and after (with --diff).
  returned: with diff mode
  type: dict
"""
