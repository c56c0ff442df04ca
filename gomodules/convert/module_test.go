package convert_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/convert"
)

func TestModuleDocumentationMatchesSpec(t *testing.T) {
	ansibletest.CheckDocumentation(t, convert.ModuleSpec, "../../plugins/modules/image_convert.py")
}

// execute runs the module as Ansible would and returns its result after a
// JSON round trip, the form Ansible receives.
func execute(t *testing.T, args map[string]any) map[string]any {
	t.Helper()
	result := ansible.Execute(context.Background(), convert.ModuleSpec, args, convert.RunModule)
	encoded, err := json.Marshal(result)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(encoded, &out))
	return out
}

func TestModuleConvertsOnceThenReportsUpToDate(t *testing.T) {
	src := rawImage(t)
	dest := filepath.Join(filepath.Dir(src), "disk.qcow2")
	args := map[string]any{"src": src, "dest": dest, "dest_format": "qcow2", "_ansible_diff": true}

	first := execute(t, args)
	require.Nil(t, first["failed"], first["msg"])
	assert.Equal(t, true, first["changed"])
	assert.Equal(t, "converted: dest does not exist", first["msg"])
	assert.Equal(t, dest, first["dest"])
	assert.Equal(t, "qcow2", first["format"])
	assert.Equal(t, "raw", first["src_format"])
	assert.EqualValues(t, fixtureSize, first["virtual_size"])
	info, err := convert.Inspect(context.Background(), dest)
	require.NoError(t, err)
	assert.EqualValues(t, info.ActualSize, first["actual_size"])
	assert.Equal(t, map[string]any{
		"before": map[string]any{"path": dest, "state": "absent"},
		"after":  map[string]any{"path": dest, "state": "file", "format": "qcow2", "virtual_size": float64(fixtureSize)},
	}, first["diff"])
	requireSameContent(t, src, "raw", dest, "qcow2")

	second := execute(t, args)
	assert.Equal(t, false, second["changed"])
	assert.Equal(t, "dest is up to date", second["msg"])
	diff := second["diff"].(map[string]any)
	assert.Equal(t, diff["after"], diff["before"], "nothing to show")
	assert.EqualValues(t, info.ActualSize, second["actual_size"])
}

func TestModuleCheckModeWritesNothingAndShowsTheDiff(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	dest := filepath.Join(dir, "disk.img")
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "raw"})
	require.NoError(t, err)
	before, err := os.Stat(dest)
	require.NoError(t, err)

	args := map[string]any{"src": src, "dest": dest, "dest_format": "vmdk", "_ansible_check_mode": true, "_ansible_diff": true}
	result := execute(t, args)
	require.Nil(t, result["failed"], result["msg"])
	assert.Equal(t, true, result["changed"])
	assert.Equal(t, "would convert: dest is raw, not vmdk", result["msg"])
	assert.EqualValues(t, 0, result["actual_size"])
	assert.Equal(t, map[string]any{
		"before": map[string]any{"path": dest, "state": "file", "format": "raw", "virtual_size": float64(fixtureSize)},
		"after":  map[string]any{"path": dest, "state": "file", "format": "vmdk", "virtual_size": float64(fixtureSize)},
	}, result["diff"])
	after, err := os.Stat(dest)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after) && before.ModTime().Equal(after.ModTime()), "dest untouched")
	assert.ElementsMatch(t, []string{"disk.raw", "disk.img"}, entries(t, dir))

	delete(args, "_ansible_diff")
	assert.NotContains(t, execute(t, args), "diff", "no diff unless asked for")
}

func TestModuleRejectsBadOptions(t *testing.T) {
	src := rawImage(t)
	dest := filepath.Join(filepath.Dir(src), "disk.qcow2")
	base := func(extra map[string]any) map[string]any {
		args := map[string]any{"src": src, "dest": dest, "dest_format": "qcow2"}
		for k, v := range extra {
			args[k] = v
		}
		return args
	}
	cases := []struct {
		name string
		args map[string]any
		msg  string
	}{
		{"unknown option", base(map[string]any{"foo": 1}),
			"Unsupported parameters for (imageops.cloud.image_convert) module: foo. Supported parameters include: compress, dest, dest_format, force, src, src_format."},
		{"bad choice", base(map[string]any{"dest_format": "qcow3"}),
			"value of dest_format must be one of: raw, qcow2, qed, vdi, vhdx, vmdk, vpc, vhd, got: qcow3"},
		{"wrong type", base(map[string]any{"compress": "sometimes"}),
			`argument 'compress' is of type str (value "sometimes") and we were unable to convert to bool: expected a boolean (true/false, yes/no, on/off, 1/0)`},
		{"missing required", map[string]any{"src": src}, "missing required arguments: dest, dest_format"},
		{"relative path", base(map[string]any{"dest": "disk.qcow2"}),
			`dest "disk.qcow2" is a relative path: expected an absolute path (a module does not run in the playbook's directory)`},
		{"compress for vmdk", base(map[string]any{"dest_format": "vmdk", "compress": true}),
			`compress is true but dest_format is "vmdk": only qcow2 images can be compressed; set compress: false or dest_format: qcow2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			result := execute(t, c.args)
			assert.Equal(t, true, result["failed"])
			assert.Equal(t, false, result["changed"])
			assert.Equal(t, c.msg, result["msg"])
		})
	}
	assert.NoFileExists(t, dest)
}
