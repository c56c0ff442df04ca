package imagebuild

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNoProxyIsReadAsCurlAndAptDo(t *testing.T) {
	for _, tc := range []struct {
		url, noProxy string
		bypass       bool
	}{
		{"http://deb.debian.org/debian", "", false},
		{"http://deb.debian.org/debian", "debian.org", true},
		{"http://deb.debian.org/debian", ".debian.org", true},
		{"http://deb.debian.org/debian", "notdebian.org", false},
		{"http://127.0.0.1:5000/v2/", "localhost, 127.0.0.1", true},
		{"http://127.0.0.1:5000/v2/", "127.0.0.0/8", true},
		{"http://10.1.2.3/x", "127.0.0.0/8", false},
		{"http://127.0.0.1:5000/v2/", "127.0.0.1:5001", false},
		{"http://127.0.0.1:5000/v2/", "127.0.0.1:5000", true},
		{"https://example.org/", "*", true},
	} {
		u, err := url.Parse(tc.url)
		require.NoError(t, err)
		assert.Equal(t, tc.bypass, bypassesProxy(u, tc.noProxy), "%s with no_proxy %q", tc.url, tc.noProxy)
	}
}

// TestSysprepScriptLeavesTheSourcesAsTheOptionsSay runs the sysprep script
// on a folder laid out as the setup leaves the image.
func TestSysprepScriptLeavesTheSourcesAsTheOptionsSay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		repos Repos
		want  []string
	}{
		{"re-enabled, extra removed", Repos{ExtraRepos: []string{"/x/extra.list"}, DisablePublicRepos: true, ReenablePublicRepos: true, RemoveExtraRepos: true},
			[]string{"sources.list", "sources.list.d/debian.sources"}},
		{"left disabled, extra kept", Repos{ExtraRepos: []string{"/x/extra.list"}, DisablePublicRepos: true, ReenablePublicRepos: false},
			[]string{"sources.list.d/debian.sources.disabled", "sources.list.d/extra.list", "sources.list.disabled"}},
		{"never disabled", Repos{ExtraRepos: []string{"/x/extra.list"}, ReenablePublicRepos: true},
			[]string{"sources.list.d/debian.sources.disabled", "sources.list.d/extra.list", "sources.list.disabled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			apt := filepath.Join(root, "etc/apt")
			require.NoError(t, os.MkdirAll(filepath.Join(apt, "sources.list.d"), 0o755))
			for _, f := range []string{"sources.list.disabled", "sources.list.d/debian.sources.disabled", "sources.list.d/extra.list"} {
				require.NoError(t, os.WriteFile(filepath.Join(apt, f), nil, 0o644))
			}
			out, err := exec.Command("sh", "-c", "set -eu\nroot=$1\n"+tc.repos.sysprepScript(), "sh", root).CombinedOutput()
			require.NoError(t, err, string(out))
			var got []string
			require.NoError(t, filepath.Walk(apt, func(path string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					rel, _ := filepath.Rel(apt, path)
					got = append(got, rel)
				}
				return err
			}))
			sort.Strings(got)
			assert.Equal(t, tc.want, got)
		})
	}
}
