package imageref

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: any text parses to a reference whose String reads back as the
// same reference, or fails with an error wrapping ErrInvalid; never a panic.
func FuzzParse(f *testing.F) {
	f.Add("nginx")
	f.Add("quay.io/ceph/ceph:v18.2.2")
	f.Add("127.0.0.1:5000/a/b@sha256:" + strings.Repeat("ab", 32))
	f.Add("repo:tag@sha256:" + strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, text string) {
		ref, err := Parse(text)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) failed without ErrInvalid: %v", text, err)
			}
			return
		}
		again, err := Parse(ref.String())
		if err != nil || again != ref {
			t.Fatalf("Parse(%q) = %+v; its String %q reads back as %+v, %v", text, ref, ref.String(), again, err)
		}
	})
}

// FuzzRewrite: rewriting any parsed reference to a registry never panics,
// and the result is a valid reference in that registry.
func FuzzRewrite(f *testing.F) {
	f.Add("quay.io/ceph/ceph:v18", "registry.example.org:5000/mirror")
	f.Add("nginx@sha256:"+strings.Repeat("ab", 32), "127.0.0.1:5000")
	f.Fuzz(func(t *testing.T, text, registry string) {
		ref, err := Parse(text)
		if err != nil {
			return
		}
		target, err := ParseRegistry(registry)
		if err != nil {
			return
		}
		for _, strategy := range Strategies {
			out, err := Rewrite(ref, target, strategy)
			if err != nil {
				continue
			}
			if _, err := Parse(out.String()); err != nil {
				t.Fatalf("Rewrite(%q, %q, %s) = %q, which does not parse: %v", text, registry, strategy, out.String(), err)
			}
		}
	})
}
