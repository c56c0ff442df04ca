package ipastub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bootedStub writes the files Ironic's pxe boot interface writes for a node
// (its grub config naming the deploy kernel and ramdisk) and starts a stub
// that does not call back, so that the tests talk to its command API only.
func bootedStub(t *testing.T, cfg Config) (*Stub, string) {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "node-1"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "node-1", "deploy_kernel"), []byte("kernel"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "node-1", "deploy_ramdisk"), []byte("ramdisk"), 0o644))
	config := "menuentry \"deploy\" {\n linuxefi node-1/deploy_kernel ipa-debug=1 ipa-api-url=http://127.0.0.1:6385 boot_server=127.0.0.1\n initrdefi node-1/deploy_ramdisk\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "grub.cfg-01-52-54-00-12-34-56"), []byte(config), 0o644))
	cfg.TFTPRoot, cfg.StateDir, cfg.NoCallback, cfg.WatchInterval = root, t.TempDir(), true, 10*time.Millisecond
	stub, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = stub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool { return len(stub.Booted()) == 1 }, time.Minute, 10*time.Millisecond) // an event: generous under load
	stub.mu.Lock()
	url := stub.agents["52:54:00:12:34:56"].callbackURL
	stub.mu.Unlock()
	return stub, url
}

func sha(data string) string {
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:])
}

func send(t *testing.T, agentURL, name string, params map[string]any, wait bool) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "params": params})
	query := "?wait=false"
	if wait {
		query = "?wait=true"
	}
	resp, err := http.Post(agentURL+"/v1/commands/"+query, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func TestBootRecordsWhatIronicWrote(t *testing.T) {
	stub, _ := bootedStub(t, Config{})
	data, err := os.ReadFile(filepath.Join(stub.cfg.StateDir, "52-54-00-12-34-56.boot.json"))
	require.NoError(t, err)
	var record BootRecord
	require.NoError(t, json.Unmarshal(data, &record))
	assert.Equal(t, "http://127.0.0.1:6385", record.APIURL)
	assert.Equal(t, sha("kernel"), record.KernelSHA256)
	assert.Equal(t, sha("ramdisk"), record.RamdiskSHA256)
}

func TestCommandsAnswerAsIPADoes(t *testing.T) {
	_, agent := bootedStub(t, Config{})
	code, out := send(t, agent, "deploy.get_deploy_steps", map[string]any{}, true)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "get_deploy_steps", out["command_name"])
	assert.Equal(t, "SUCCEEDED", out["command_status"])
	result := out["command_result"].(map[string]any)
	assert.Contains(t, result, "hardware_manager_version")
	assert.Contains(t, result["deploy_steps"], "GenericHardwareManager")

	code, out = send(t, agent, "standby.no_such_command", map[string]any{}, true)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "Unknown command: standby.no_such_command", out["faultstring"])
}

func TestWriteImageVerifiesWhatItDownloads(t *testing.T) {
	image := []byte("a raw disk image")
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(image) }))
	defer server.Close()
	sum := sha512.Sum512(image)
	step := func(hash string) map[string]any {
		return map[string]any{"step": map[string]any{"step": "write_image", "interface": "deploy", "args": map[string]any{
			"image_info": map[string]any{"urls": []any{server.URL + "/agent_images/node-1"}, "os_hash_algo": "sha512", "os_hash_value": hash}}}}
	}
	for _, tc := range []struct {
		name, hash, status, errorText string
		cfg                           Config
	}{
		{"verified", hex.EncodeToString(sum[:]), "SUCCEEDED", "", Config{}},
		{"wrong hash", "00", "FAILED", "sha512 is", Config{}},
		{"fail-step", hex.EncodeToString(sum[:]), "FAILED", "disk gone", Config{FailStep: "write_image", FailMessage: "disk gone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stub, agent := bootedStub(t, tc.cfg)
			code, out := send(t, agent, "deploy.execute_deploy_step", step(tc.hash), false)
			require.Equal(t, http.StatusOK, code, out)
			assert.Equal(t, "RUNNING", out["command_status"], "in-band steps run in the background, as in IPA")
			var last map[string]any
			require.Eventually(t, func() bool {
				resp, err := http.Get(agent + "/v1/commands/")
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				var list struct{ Commands []map[string]any }
				_ = json.NewDecoder(resp.Body).Decode(&list)
				last = list.Commands[len(list.Commands)-1]
				return last["command_status"] != "RUNNING"
			}, time.Minute, 10*time.Millisecond) // an event: generous under load
			assert.Equal(t, tc.status, last["command_status"])
			disk, err := os.ReadFile(filepath.Join(stub.cfg.StateDir, "52-54-00-12-34-56.disk"))
			if tc.status == "SUCCEEDED" {
				require.NoError(t, err)
				assert.Equal(t, image, disk)
				assert.Equal(t, "write_image", last["command_result"].(map[string]any)["deploy_step"].(map[string]any)["step"])
				return
			}
			assert.Contains(t, last["command_error"].(map[string]any)["details"], tc.errorText)
			if tc.name == "wrong hash" {
				assert.True(t, os.IsNotExist(err), "an image that failed its check is not left as the disk")
			}
		})
	}
}

func TestOnlyLoopbackIsContacted(t *testing.T) {
	assert.NoError(t, loopbackOnly("http://127.0.0.1:8385/x"))
	assert.Error(t, loopbackOnly("http://192.0.2.1/x"))
	assert.Error(t, loopbackOnly("http://example.com/x"))
}
