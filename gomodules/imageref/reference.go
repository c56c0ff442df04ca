package imageref

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// DockerHub is the registry host written for Docker Hub references; the
// go-containerregistry name "index.docker.io" is shown as this.
const DockerHub = "docker.io"

// DefaultTag is the tag assumed when a reference has neither tag nor digest.
const DefaultTag = "latest"

// ErrInvalid is wrapped by every error Parse returns.
var ErrInvalid = errors.New("invalid image reference")

// expected is the form Parse errors ask for.
const expected = "expected [registry/]repository[:tag][@sha256:<64 hex digits>]"

// Reference is a parsed image reference. Its zero value is not valid.
type Reference struct {
	// Registry is the host[:port], e.g. "quay.io", "127.0.0.1:5000";
	// Docker Hub is "docker.io".
	Registry string
	// Repository is the path inside the registry, e.g. "ceph/ceph" or, on
	// Docker Hub, "library/nginx".
	Repository string
	// Tag is the tag, "" when the reference gives only a digest; Parse sets
	// DefaultTag when the reference gives neither tag nor digest.
	Tag string
	// Digest is "algorithm:hex" (e.g. "sha256:4f..."), or "" when not pinned.
	Digest string
}

// Parse parses a reference such as "nginx", "quay.io/ceph/ceph:v18",
// "127.0.0.1:5000/a/b@sha256:..." or "repo:tag@sha256:...". It applies Docker
// Hub's defaults (registry docker.io, namespace library) and DefaultTag when
// neither tag nor digest is given. Errors wrap ErrInvalid and quote the input.
func Parse(text string) (Reference, error) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return Reference{}, fmt.Errorf("%w: empty string, %s", ErrInvalid, expected)
	}
	base, digest, pinned := strings.Cut(trimmed, "@")
	var repo name.Repository
	if pinned {
		d, err := name.NewDigest(trimmed)
		if err != nil {
			return Reference{}, fmt.Errorf("%w %q: %v; %s", ErrInvalid, text, err, expected)
		}
		repo = d.Context()
	}
	tag, err := name.NewTag(base)
	if err != nil {
		return Reference{}, fmt.Errorf("%w %q: %v; %s", ErrInvalid, text, err, expected)
	}
	if !pinned {
		repo = tag.Context()
	}
	ref := Reference{
		Registry:   registryHost(repo.Registry),
		Repository: repo.RepositoryStr(),
		Digest:     digest,
	}
	switch {
	case hasExplicitTag(base):
		ref.Tag = tag.TagStr()
	case !pinned:
		ref.Tag = DefaultTag
	}
	return ref, nil
}

// MustParse is Parse for constants in tests and examples; it panics on error.
func MustParse(text string) Reference {
	ref, err := Parse(text)
	if err != nil {
		panic(err)
	}
	return ref
}

// hasExplicitTag tells whether the last path segment of base has ":tag"
// (a colon before the first "/" is a port, not a tag).
func hasExplicitTag(base string) bool {
	return strings.Contains(base[strings.LastIndex(base, "/")+1:], ":")
}

func registryHost(r name.Registry) string {
	host := r.RegistryStr()
	if host == name.DefaultRegistry {
		return DockerHub
	}
	return host
}

// Name is "registry/repository", e.g. "docker.io/library/nginx".
func (r Reference) Name() string {
	return r.Registry + "/" + r.Repository
}

// String is the full reference, "registry/repository[:tag][@digest]".
func (r Reference) String() string {
	out := r.Name()
	if r.Tag != "" {
		out += ":" + r.Tag
	}
	if r.Digest != "" {
		out += "@" + r.Digest
	}
	return out
}

// Pinned returns the reference with its digest set to digest ("sha256:...").
func (r Reference) Pinned(digest string) Reference {
	r.Digest = digest
	return r
}

// Identifier is what selects the manifest: the digest when pinned, else the tag.
func (r Reference) Identifier() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

// GGCR converts r to a go-containerregistry reference: a name.Digest when
// pinned (the tag is dropped: the digest selects the content), else a
// name.Tag. opts are name options such as name.Insecure.
func (r Reference) GGCR(opts ...name.Option) (name.Reference, error) {
	if r.Digest != "" {
		return name.NewDigest(r.Name()+"@"+r.Digest, opts...)
	}
	return name.NewTag(r.Name()+":"+r.Tag, opts...)
}

// maxTagLength is the longest tag the OCI distribution spec allows.
const maxTagLength = 128

// DigestTag is the tag a reference known only by its digest is pushed under,
// so that a registry's garbage collection of untagged manifests
// (distribution's "garbage-collect --delete-untagged") cannot remove it: the
// digest with ":" replaced by "-", "sha256-<64 hex digits>" (cut to the 128
// characters a tag may have, which only a sha512 digest exceeds). Tags of
// this form are not what a release is tagged with, so they do not collide
// with one.
func DigestTag(digest string) string {
	tag := strings.Replace(digest, ":", "-", 1)
	if len(tag) > maxTagLength {
		tag = tag[:maxTagLength]
	}
	return tag
}

// TagRef converts r to a go-containerregistry tag reference (for pushing
// the tag of a reference that also has a digest). It fails when r has no tag.
func (r Reference) TagRef(opts ...name.Option) (name.Tag, error) {
	if r.Tag == "" {
		return name.Tag{}, fmt.Errorf("reference %q has no tag", r.String())
	}
	return name.NewTag(r.Name()+":"+r.Tag, opts...)
}
