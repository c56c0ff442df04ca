// Package imageref parses container image references and rewrites them to
// point at another registry.
//
// A reference is parsed with go-containerregistry's name package, so it
// accepts what docker and crane accept, with Docker Hub's defaults:
// "nginx" is docker.io/library/nginx:latest. Unlike name.Digest, a Reference
// keeps both the tag and the digest of "repo:tag@sha256:...", because a mirror
// must push the tag and a manifest must keep the pin.
//
// Rewriting (Rewrite, Plan) follows one of three strategies:
//
//   - Flatten ("flatten", the default, as Atmosphere's image_manifest does):
//     <registry>/<last path segment>, so quay.io/ceph/ceph becomes
//     <registry>/ceph.
//   - Path ("path"): <registry>/<source repository path>, so quay.io/ceph/ceph
//     becomes <registry>/ceph/ceph.
//   - Scoped ("scoped", as skopeo sync --scoped): <registry>/<source
//     host>/<source repository path>, so quay.io/ceph/ceph becomes
//     <registry>/quay.io/ceph/ceph. Two different sources never collide. A
//     port in the source host becomes "_port" (127.0.0.1:5000 -> 127.0.0.1_5000).
//
// The target registry may carry a path ("registry.example.com/openstack"),
// which prefixes every rewritten repository. Plan rejects two different
// sources that rewrite to the same target repository and tag (ErrCollision).
//
// ImagesOption reads the images option of the modules that take image lists
// (mirror_images, image_manifest): a list of references or a dict of name ->
// reference.
package imageref
