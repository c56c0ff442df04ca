package ingest

import (
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/imageops/cloud/gomodules/ansible"
)

// FuzzImageOptions: any args file, validated against community_image's own
// argument spec and normalised as Ensure does before touching Glance or the
// network, ends in options or in an error, never a panic; a URL password in
// source_url never shows in the error.
func FuzzImageOptions(f *testing.F) {
	f.Add([]byte(`{"name": "debian-12", "source_url": "https://u:p/w@d@example.org/d.qcow2", "checksum": "sha256:` +
		strings.Repeat("ab", 32) + `", "properties": ["os_distro=debian", "a=b"], "decompress": "yes", "max_virtual_size": "8G"}`))
	f.Add([]byte(`{"name": "in:x", "source_url": "file:///etc/shadow", "disk_format": "aki", "properties": {"name": 1}}`))
	f.Add([]byte("name: x\nsource_url: /srv/x.img\nmin_disk: '10'\ntags: a,b\nkubernetes_version: v1.30\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		args, err := ansible.ParseArgs(content)
		if err != nil {
			return
		}
		params, err := ImageSpec.Validate(args)
		if err != nil {
			return
		}
		encoded, err := json.Marshal(params)
		if err != nil {
			t.Fatalf("validated params do not encode: %v", err)
		}
		var opts Options
		if err := json.Unmarshal(encoded, &opts); err != nil {
			return // a shape the spec lets through as raw (properties, decompress) but Options cannot hold
		}
		d, err := opts.normalize()
		if err != nil {
			if password := urlPassword(opts.SourceURL); len(password) >= 4 && strings.Contains(err.Error(), password) {
				t.Fatalf("the error shows source_url's password: %v", err)
			}
			return
		}
		if d.maxVirtualSize <= 0 {
			t.Fatalf("normalize accepted max_virtual_size %d", d.maxVirtualSize)
		}
	})
}

// urlPassword is what follows "user:" in a URL's user information, up to the last "@".
func urlPassword(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	at := strings.LastIndex(rest, "@")
	if !ok || at < 0 {
		return ""
	}
	_, password, _ := strings.Cut(rest[:at], ":")
	return password
}
