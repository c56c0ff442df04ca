package imagebuild_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/imagebuild"
)

func TestModuleDocumentationMatchesSpec(t *testing.T) {
	ansibletest.CheckDocumentation(t, imagebuild.ModuleSpec, "../../plugins/modules/image_build.py")
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// validated runs the task's options through the module's spec, as Ansible would.
func validated(t *testing.T, task map[string]any) map[string]any {
	t.Helper()
	params, err := imagebuild.ModuleSpec.Validate(task)
	require.NoError(t, err)
	return params
}

func TestVarFilesAreLayeredInOrderAndTheTaskWins(t *testing.T) {
	dir := t.TempDir()
	base := writeFile(t, dir, "base.yml", "name: base\nrelease: bullseye\npackages: [curl]\nsize: 2G\n")
	site := writeFile(t, dir, "site.json", `{"release": "bookworm", "kernel_cmdline": "console=ttyS0"}`)
	spec, err := imagebuild.Load(validated(t, map[string]any{"output_dir": dir, "size": "3G"}), []string{base, site})
	require.NoError(t, err)

	cfg := spec.Config
	assert.Equal(t, "base", cfg.Name)
	assert.Equal(t, "bookworm", cfg.Release, "the later file wins")
	assert.Equal(t, []string{"curl"}, cfg.Packages)
	assert.Equal(t, int64(3)<<30, cfg.Size, "the task wins over the files")
	assert.Equal(t, imagebuild.DefaultMirror, cfg.Mirror)
	assert.Equal(t, []string{"qcow2"}, cfg.Formats)
	assert.Equal(t, imagebuild.Variable{Value: "bookworm", Source: site}, spec.Variables["release"])
	assert.Equal(t, base, spec.Variables["name"].Source)
	assert.Equal(t, imagebuild.SourceTask, spec.Variables["size"].Source)
	assert.Equal(t, imagebuild.SourceDefault, spec.Variables["mirror"].Source)
}

func TestBadSpecsFailNamingTheFieldFileAndLine(t *testing.T) {
	dir := t.TempDir()
	good := map[string]any{"name": "img", "output_dir": dir}
	for _, tc := range []struct {
		name     string
		task     map[string]any
		varFile  string
		contains []string
	}{
		{"unknown key in a var file", good, "name: x\nrelease: bookworm\nbogus_key: 1\n",
			[]string{"line 3", `unknown variable "bogus_key"`, "vars.yml"}},
		{"not YAML", good, "name: [unclosed\n", []string{"vars.yml", "is not YAML or JSON", "line"}},
		{"not a mapping", good, "- a\n- b\n", []string{"vars.yml", "line 1", "expected a mapping"}},
		{"wrong type in a var file", good, "packages: {a: 1}\n", []string{"vars.yml", "packages"}},
		{"unknown release", map[string]any{"name": "img", "output_dir": dir, "release": "buster"}, "",
			[]string{`release "buster" (from task)`, "bookworm"}},
		{"unknown distribution", map[string]any{"name": "img", "output_dir": dir, "distribution": "arch"}, "",
			[]string{`distribution "arch"`, "expected one of debian"}},
		{"size too small", map[string]any{"name": "img", "output_dir": dir, "size": "1G"}, "",
			[]string{"size 1073741824 (from task)", "base system takes about 800 MiB", "at least 1347 MiB", "1347M or more"}},
		{"relative output_dir", map[string]any{"name": "img", "output_dir": "out"}, "", []string{"output_dir", "absolute"}},
		{"no name", map[string]any{"output_dir": dir}, "", []string{"name is required"}},
		{"relative var file", map[string]any{"output_dir": dir, "var_files": []any{"specs/a.yml"}}, "", []string{`var file "specs/a.yml" is a relative path`}},
		{"bad format", map[string]any{"name": "img", "output_dir": dir, "formats": []any{"vmdk"}}, "", []string{"formats", "qcow2, raw"}},
		{"bad mirror", map[string]any{"name": "img", "output_dir": dir, "mirror": "ftp://x"}, "", []string{"mirror", "http"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var files []string
			if tc.varFile != "" {
				files = []string{writeFile(t, dir, "vars.yml", tc.varFile)}
			}
			task := validated(t, tc.task)
			if vf, ok := task["var_files"].([]any); ok && files == nil {
				for _, f := range vf {
					files = append(files, f.(string))
				}
			}
			_, err := imagebuild.Load(task, files)
			require.Error(t, err)
			assert.ErrorIs(t, err, imagebuild.ErrInvalidSpec)
			for _, want := range tc.contains {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestUnknownTaskOptionsFailBeforeAnything(t *testing.T) {
	dir := t.TempDir()
	res := ansible.Execute(context.Background(), imagebuild.ModuleSpec,
		map[string]any{"name": "img", "output_dir": dir, "disk_size": 20480}, imagebuild.RunModule)
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "disk_size")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written")
}

func TestCheckModeSaysWhatWouldBeBuiltAndWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	res := ansible.Execute(context.Background(), imagebuild.ModuleSpec,
		map[string]any{"name": "img", "output_dir": dir, "_ansible_check_mode": true}, imagebuild.RunModule)
	require.Nil(t, res["failed"], res["msg"])
	assert.Equal(t, true, res["changed"])
	assert.Equal(t, "would build: no build record", res["msg"])
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "output_dir not made in check mode")
}

func TestARecordMatchingTheSpecIsUpToDate(t *testing.T) {
	dir := t.TempDir()
	spec, err := imagebuild.Load(validated(t, map[string]any{"name": "img", "output_dir": dir}), nil)
	require.NoError(t, err)
	image := writeFile(t, dir, "img.qcow2", "not really an image")
	writeRecord(t, spec, image, 19)

	plan, err := imagebuild.Plan(spec, false)
	require.NoError(t, err)
	assert.False(t, plan.Build, plan.Reason)

	forced, err := imagebuild.Plan(spec, true)
	require.NoError(t, err)
	assert.Equal(t, "force is set", forced.Reason)

	other, err := imagebuild.Load(validated(t, map[string]any{"name": "img", "output_dir": dir, "packages": []any{"curl"}}), nil)
	require.NoError(t, err)
	plan, err = imagebuild.Plan(other, false)
	require.NoError(t, err)
	assert.Equal(t, "the spec differs from the build record's", plan.Reason)

	writeRecord(t, spec, image, 20)
	plan, err = imagebuild.Plan(spec, false)
	require.NoError(t, err)
	assert.Contains(t, plan.Reason, "not the recorded size")
}

func writeRecord(t *testing.T, spec imagebuild.Spec, image string, size int64) {
	t.Helper()
	rec := imagebuild.Record{SpecSHA256: spec.Config.SpecSHA256(),
		Outputs: map[string]imagebuild.Output{"qcow2": {Path: image, Format: "qcow2", Size: size}}}
	require.NoError(t, imagebuild.WriteRecord(spec.Config.RecordPath(), rec))
}
