package azimuthimages

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/imageops/cloud/gomodules/fetch"
)

// MaxManifestSize bounds the manifest Read accepts: 8 MiB. A release's
// manifest is a few kilobytes; anything near the bound is not one.
const MaxManifestSize = 8 << 20

// ErrNotManifest is matched (errors.Is) by the errors of data that is not an
// azimuth-images manifest.
var ErrNotManifest = errors.New("not an azimuth-images manifest")

// expectedManifest ends the errors of data that is not a manifest.
const expectedManifest = "expected the manifest.json of an azimuth-images release: a JSON object keyed by build name, " +
	"each entry an object with name, url, checksum and checksum_sha512"

// kubernetesVersionPattern is what a Kubernetes image's kubernetes_version
// looks like: the semver of the release it was built with, "v1.34.10".
var kubernetesVersionPattern = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9A-Za-z.+-]+$`)

// Entry is one build of a manifest.
type Entry struct {
	// Build is the build's name, the entry's key in the manifest
	// ("kubernetes-1-34-noble").
	Build string
	// Name is the image's name ("ubuntu-noble-kube-v1.34.10-260810-1201").
	Name string `json:"name"`
	// URL is where the image (qcow2) is published.
	URL string `json:"url"`
	// Checksum is "sha256:<hex>" of the image as published.
	Checksum string `json:"checksum"`
	// ChecksumSHA512 is "sha512:<hex>" of the image as published.
	ChecksumSHA512 string `json:"checksum_sha512"`
	// KubernetesVersion is set for Kubernetes images ("v1.34.10").
	KubernetesVersion string `json:"kubernetes_version"`
	// Fields holds every field of the entry as read, those above included
	// (cosign-bundle-url, image-sbom-url, ...).
	Fields map[string]any `json:"-"`
}

// Manifest is a release's manifest, its entries in the order of the file.
type Manifest struct {
	// Source is where the manifest was read from (redacted by
	// fetch.RedactURL), or "the manifest given" for one given as data.
	Source string
	// Entries are the builds, in the file's order.
	Entries []Entry
}

// Fields returns the manifest as read: build name -> entry fields.
func (m Manifest) Fields() map[string]map[string]any {
	out := make(map[string]map[string]any, len(m.Entries))
	for _, e := range m.Entries {
		out[e.Build] = e.Fields
	}
	return out
}

// Read fetches the manifest at url (http, https or file) with fetch's
// retries and timeouts, then Parses it. Errors name the URL.
func Read(ctx context.Context, url string, opts ...fetch.Option) (Manifest, error) {
	data, err := fetch.ReadSmall(ctx, url, MaxManifestSize, opts...)
	if err != nil {
		return Manifest{}, fmt.Errorf("reading the azimuth-images manifest: %w", err)
	}
	return Parse(data, fetch.RedactURL(url))
}

// Parse reads data as a manifest read from source (a URL, for errors). It
// keeps the entries' order; errors match ErrNotManifest and say which entry
// and field are at fault.
func Parse(data []byte, source string) (Manifest, error) {
	m := Manifest{Source: source}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	start, err := dec.Token()
	if err != nil {
		return m, notManifest(source, "it is not JSON (%v)", err)
	}
	if delim, ok := start.(json.Delim); !ok || delim != '{' {
		return m, notManifest(source, "it is a JSON %s, not an object", jsonKind(start))
	}
	seen := map[string]bool{}
	for dec.More() {
		entry, err := decodeEntry(dec, source)
		if err != nil {
			return m, err
		}
		if seen[entry.Build] {
			return m, notManifest(source, "build %q appears twice", entry.Build)
		}
		seen[entry.Build] = true
		m.Entries = append(m.Entries, entry)
	}
	if _, err := dec.Token(); err != nil {
		return m, notManifest(source, "it is not JSON (%v)", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return m, notManifest(source, "something follows the JSON object")
	}
	return m, nil
}

// ParseFields checks a manifest given as data (a dict in Ansible) the way
// Parse checks a file. Go maps have no order, so entries are taken in the
// order of their keys.
func ParseFields(fields map[string]any, source string) (Manifest, error) {
	data, err := json.Marshal(fields)
	if err != nil {
		return Manifest{}, notManifest(source, "it cannot be written as JSON (%v)", err)
	}
	return Parse(data, source)
}

func decodeEntry(dec *json.Decoder, source string) (Entry, error) {
	keyToken, err := dec.Token()
	if err != nil {
		return Entry{}, notManifest(source, "it is not JSON (%v)", err)
	}
	key, _ := keyToken.(string)
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return Entry{}, notManifest(source, "build %q is not JSON (%v)", key, err)
	}
	fields, ok := raw.(map[string]any)
	if !ok {
		return Entry{}, notManifest(source, "build %q is a JSON %s, not an object", key, jsonKind(raw))
	}
	entry := Entry{Build: key, Fields: plainNumbers(fields)}
	for name, target := range map[string]*string{"name": &entry.Name, "url": &entry.URL, "checksum": &entry.Checksum,
		"checksum_sha512": &entry.ChecksumSHA512, "kubernetes_version": &entry.KubernetesVersion} {
		value, present := fields[name]
		if !present {
			continue
		}
		text, isText := value.(string)
		if !isText {
			return Entry{}, notManifest(source, "build %q: %s is a JSON %s, not a string", key, name, jsonKind(value))
		}
		*target = text
	}
	return entry, entry.check(source)
}

// check says what an entry lacks to be uploaded as azimuth-ops uploads it.
func (e Entry) check(source string) error {
	if strings.TrimSpace(e.Name) == "" {
		return notManifest(source, "build %q has no name", e.Build)
	}
	if strings.TrimSpace(e.URL) == "" {
		return notManifest(source, "build %q has no url", e.Build)
	}
	if e.KubernetesVersion != "" && !kubernetesVersionPattern.MatchString(e.KubernetesVersion) {
		return notManifest(source, "build %q: kubernetes_version %q is not a Kubernetes version such as v1.34.10", e.Build, e.KubernetesVersion)
	}
	if _, err := fetch.ParseChecksums(e.Checksum, e.ChecksumSHA512); err != nil {
		return notManifest(source, "build %q: %v", e.Build, err)
	}
	return nil
}

func notManifest(source, format string, args ...any) error {
	return fmt.Errorf("%q is %w: %s; %s", source, ErrNotManifest, fmt.Sprintf(format, args...), expectedManifest)
}

// jsonKind names a decoded JSON value's kind.
func jsonKind(value any) string {
	switch v := value.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, int64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	}
	return fmt.Sprintf("%T", value)
}

// plainNumbers turns the json.Numbers UseNumber kept into int64 or float64,
// so that the fields handed back print as they were written.
func plainNumbers(value map[string]any) map[string]any {
	for key, item := range value {
		switch v := item.(type) {
		case json.Number:
			if n, err := v.Int64(); err == nil {
				value[key] = n
			} else if f, err := v.Float64(); err == nil {
				value[key] = f
			}
		case map[string]any:
			value[key] = plainNumbers(v)
		}
	}
	return value
}
