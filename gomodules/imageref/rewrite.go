package imageref

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Strategy says how Rewrite builds the target repository; see the package doc.
type Strategy string

// The rewriting strategies.
const (
	// Flatten keeps only the last path segment: quay.io/ceph/ceph -> <registry>/ceph.
	Flatten Strategy = "flatten"
	// Path keeps the repository path: quay.io/ceph/ceph -> <registry>/ceph/ceph.
	Path Strategy = "path"
	// Scoped keeps host and path: quay.io/ceph/ceph -> <registry>/quay.io/ceph/ceph.
	Scoped Strategy = "scoped"
)

// DefaultStrategy is the strategy used when none is given: Flatten, as Atmosphere.
const DefaultStrategy = Flatten

// Strategies lists every strategy, in the order documentation shows them.
var Strategies = []Strategy{Flatten, Path, Scoped}

// ErrCollision is wrapped by the error Plan returns when two different
// sources would be written to the same target repository and tag.
var ErrCollision = errors.New("two different images rewrite to the same target")

// ParseStrategy accepts "flatten", "path" or "scoped"; "" is DefaultStrategy.
func ParseStrategy(text string) (Strategy, error) {
	if text == "" {
		return DefaultStrategy, nil
	}
	for _, s := range Strategies {
		if string(s) == text {
			return s, nil
		}
	}
	return "", fmt.Errorf("strategy %q is not one of flatten, path, scoped", text)
}

// Registry is a rewrite target: a registry host and an optional path that
// prefixes every repository, parsed from "host[:port][/path]".
type Registry struct {
	// Host is host[:port], e.g. "registry.example.com" or "127.0.0.1:5000".
	Host string
	// Prefix is the path below the host, e.g. "openstack", or "".
	Prefix string
}

// ParseRegistry parses "host[:port][/path]", e.g. "registry.example.com/openstack".
// A scheme ("https://") or a tag is an error that quotes the input.
func ParseRegistry(text string) (Registry, error) {
	trimmed := strings.TrimSuffix(strings.TrimSpace(text), "/")
	if strings.Contains(trimmed, "://") {
		return Registry{}, fmt.Errorf("registry %q: expected host[:port][/path] without a scheme such as https://", text)
	}
	host, prefix, _ := strings.Cut(trimmed, "/")
	if _, err := name.NewRegistry(host, name.StrictValidation); err != nil || host == "" {
		return Registry{}, fmt.Errorf("registry %q: expected host[:port][/path], %q is not a registry host", text, host)
	}
	if prefix != "" {
		// Validate the path as a repository name would be validated.
		if _, err := name.NewRepository(host+"/"+prefix+"/x", name.StrictValidation); err != nil {
			return Registry{}, fmt.Errorf("registry %q: path %q is not a valid repository path (lowercase letters, digits, '.', '_', '-', '/')", text, prefix)
		}
	}
	return Registry{Host: host, Prefix: prefix}, nil
}

// String is "host[/prefix]".
func (r Registry) String() string {
	if r.Prefix == "" {
		return r.Host
	}
	return r.Host + "/" + r.Prefix
}

// Rewrite returns src moved to registry by strategy; tag and digest are kept.
func Rewrite(src Reference, registry Registry, strategy Strategy) (Reference, error) {
	var repo string
	switch strategy {
	case Flatten, "":
		repo = src.Repository[strings.LastIndex(src.Repository, "/")+1:]
	case Path:
		repo = src.Repository
	case Scoped:
		// A port cannot appear in a path: "host:5000" becomes "host_5000"
		// (host names have no "_", so this cannot collide).
		repo = strings.ReplaceAll(src.Registry, ":", "_") + "/" + src.Repository
	default:
		return Reference{}, fmt.Errorf("strategy %q is not one of flatten, path, scoped", strategy)
	}
	if registry.Prefix != "" {
		repo = registry.Prefix + "/" + repo
	}
	out := Reference{Registry: registry.Host, Repository: repo, Tag: src.Tag, Digest: src.Digest}
	if _, err := out.GGCR(); err != nil {
		return Reference{}, fmt.Errorf("rewriting %q with strategy %s: %q is not a valid reference: %v", src, strategy, out, err)
	}
	return out, nil
}

// Mapping is one named image: where it comes from and where it goes.
type Mapping struct {
	// Name is the key in the user's dict (for a list, the reference itself).
	Name string
	// Source is the parsed reference the user gave.
	Source Reference
	// Target is Source rewritten; it equals Source when no registry is given.
	Target Reference
	// Original is the reference text as the user wrote it.
	Original string
}

// Written is the target as a manifest writes it: Target, except that a
// source written with neither tag nor digest ("quay.io/a/b") is written
// without a tag too ("<registry>/b"), as Atmosphere's docker_image filter
// writes it; the mirror still pushes the DefaultTag it stands for.
func (m Mapping) Written() string {
	if m.Target.Digest == "" && !hasExplicitTag(strings.TrimSpace(m.Original)) {
		untagged := m.Target
		untagged.Tag = ""
		return untagged.String()
	}
	return m.Target.String()
}

// Plan parses every image of images (name -> reference) and rewrites it to
// registry by strategy; a nil registry leaves the references unchanged.
// The result is sorted by name. Every invalid reference is reported (the
// error names the image and quotes the reference), and two different sources
// that rewrite to the same target repository and tag are an error wrapping
// ErrCollision that names both.
func Plan(images map[string]string, registry *Registry, strategy Strategy) ([]Mapping, error) {
	names := make([]string, 0, len(images))
	for n := range images {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	out := make([]Mapping, 0, len(names))
	for _, n := range names {
		src, err := Parse(images[n])
		if err != nil {
			errs = append(errs, fmt.Errorf("image %q: %w", n, err))
			continue
		}
		m := Mapping{Name: n, Source: src, Target: src, Original: images[n]}
		if registry != nil {
			if m.Target, err = Rewrite(src, *registry, strategy); err != nil {
				errs = append(errs, fmt.Errorf("image %q: %w", n, err))
				continue
			}
		}
		out = append(out, m)
	}
	errs = append(errs, collisions(out)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// collisions finds targets (repository and tag, or digest when untagged)
// claimed by sources that differ in repository or in digest.
func collisions(mappings []Mapping) []error {
	first := map[string]Mapping{}
	var errs []error
	for _, m := range mappings {
		key := m.Target.Name() + ":" + m.Target.Tag
		if m.Target.Tag == "" {
			key = m.Target.Name() + "@" + m.Target.Digest
		}
		prev, seen := first[key]
		if !seen {
			first[key] = m
			continue
		}
		sameRepo := prev.Source.Name() == m.Source.Name()
		digestsAgree := prev.Source.Digest == "" || m.Source.Digest == "" || prev.Source.Digest == m.Source.Digest
		if !sameRepo || !digestsAgree {
			errs = append(errs, fmt.Errorf("%w: %q (%s) and %q (%s) would both be written to %s; use strategy path or scoped, or rename one",
				ErrCollision, prev.Name, prev.Source, m.Name, m.Source, key))
		}
	}
	return errs
}
