// Package ipatest is the ipa_test module: it tries a pair of Ironic Python
// Agent (IPA) images, a deploy kernel and initramfs in Glance, on one
// Ironic node of a type before the type's nodes use them, as Chameleon's
// ipa_tester (ChameleonCloud/abracadabra, site_tools/ipa_tester.py) does:
//
//  1. The pair (default: the newest active images whose build-ipa property
//     is kernel and initramfs) and the test image (default: the newest active
//     image with build-distro ubuntu and build-variant base) are checked in
//     Glance first: Ironic itself would only find a missing deploy image once
//     a deploy has started.
//  2. One available node of the type (Ironic resource_class) is reserved.
//     Chameleon reserves it with a Blazar lease; Blazar is not packaged here,
//     so the reservation is a Reserver, by default Ironic's own allocations
//     API (Allocations), and a Blazar Reserver can replace it.
//  3. The node's driver_info deploy_kernel and deploy_ramdisk are set to the
//     pair, and, in the same patch, what was there before is recorded in the
//     node's extra (key imageops_ipa_test) with the run's identity, so that a
//     run killed at any point is undone by the next run.
//  4. The test image is deployed on the node directly through Ironic
//     (instance_info image_source, provision state active); Chameleon goes
//     through Nova, which is not part of this collection. The pair passes
//     when the node reaches active within the timeout.
//  5. The node is undeployed; without push its previous pair is restored
//     exactly (keys that were absent are removed again); with push, after a
//     pass, every node of the type gets the pair, retrying nodes that answer
//     409 (locked, in a transition) and reporting those that still refuse.
//     The reservation is released.
//
// Every failure (the images, no free node, a deploy that ends in deploy
// failed, no agent callback before the timeout, the node going into
// maintenance) undoes steps 2 to 4 and fails with the step that failed and
// Ironic's last_error. Nodes of other types are never touched.
package ipatest
