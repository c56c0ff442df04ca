package imagebuild_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/imageops/cloud/gomodules/imagebuild"
)

// FuzzVarFile: a var file is the user's text, read before anything else.
// Load never panics, and what it refuses is an ErrInvalidSpec (which names
// the file); what it accepts has a spec hash.
func FuzzVarFile(f *testing.F) {
	for _, seed := range []string{
		"name: debian-12\nrelease: bookworm\npackages: [curl]\nsize: 2G\n",
		`{"extra_debs": "a b", "disable_public_repos": "true", "extra_repos": "/x/a.list"}`,
		"load_additional_components: true\nadditional_registry_images: true\nadditional_registry_images_list: a/b:1, c/d:2\n",
		"node_custom_roles_pre: 'a b.c.d /e'\nhttp_proxy: http://u:p@h:1\nno_proxy: '*'\n",
		"name: x\nrelease: bookworm\n  size: 2G\n",
		"- a\n",
		"",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		file := filepath.Join(dir, "vars.yml")
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		spec, err := imagebuild.Load(map[string]any{"name": "fuzz", "output_dir": filepath.Join(dir, "out")}, []string{file})
		if err != nil {
			if !errors.Is(err, imagebuild.ErrInvalidSpec) {
				t.Fatalf("a refused var file is not an ErrInvalidSpec: %v", err)
			}
			return
		}
		if spec.Config.SpecSHA256() == "" {
			t.Fatal("an accepted spec has no hash")
		}
	})
}
