package ipastub

import (
	"context"
	"crypto/md5" //nolint:gosec // Glance's legacy checksum is MD5; IPA verifies it too
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Command statuses, as IPA reports them.
const (
	statusRunning   = "RUNNING"
	statusSucceeded = "SUCCEEDED"
	statusFailed    = "FAILED"
)

// command is one command result in IPA's shape.
type command struct {
	ID     string         `json:"id"`
	Name   string         `json:"command_name"`
	Params map[string]any `json:"command_params"`
	Status string         `json:"command_status"`
	Error  *commandError  `json:"command_error"`
	Result any            `json:"command_result"`
}

// commandError is IPA's serialized exception.
type commandError struct {
	Type    string `json:"type"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details string `json:"details"`
}

// handler answers one command: synchronously (result, err) or, when it
// returns async, later through finish.
type handler func(a *agent, c *command) (result any, err error)

// stubVersions is the hardware manager version the stub reports.
var stubVersions = map[string]string{"generic_hardware_manager": "1.2"}

// handlers are the commands Ironic's direct deploy and cleaning send, by
// their full name (extension.method).
var handlers = map[string]handler{
	"deploy.get_deploy_steps": func(*agent, *command) (any, error) {
		return map[string]any{"hardware_manager_version": stubVersions, "deploy_steps": map[string]any{
			"GenericHardwareManager": []map[string]any{{"step": "write_image", "priority": 0, "interface": "deploy",
				"reboot_requested": false, "argsinfo": nil}}}}, nil
	},
	"deploy.execute_deploy_step": executeStep("deploy"),
	"clean.get_clean_steps": func(*agent, *command) (any, error) {
		return map[string]any{"hardware_manager_version": stubVersions, "clean_steps": map[string]any{
			"GenericHardwareManager": []map[string]any{{"step": "erase_devices_metadata", "priority": 0,
				"interface": "deploy", "reboot_requested": false, "abortable": true}}}}, nil
	},
	"clean.execute_clean_step":    executeStep("clean"),
	"standby.get_partition_uuids": func(*agent, *command) (any, error) { return map[string]any{}, nil },
	"image.install_bootloader":    func(*agent, *command) (any, error) { return nil, nil },
	"standby.sync":                func(*agent, *command) (any, error) { return nil, nil },
	"standby.power_off":           halt,
	"standby.reboot":              halt,
	"log.collect_system_logs":     func(*agent, *command) (any, error) { return map[string]any{"system_logs": ""}, nil },
}

// halt powers the agent off (it stops heartbeating, as the machine would).
func halt(a *agent, _ *command) (any, error) {
	a.mu.Lock()
	a.halted = true
	a.mu.Unlock()
	return nil, nil
}

// asyncResult marks a command that finishes in the background.
type asyncResult struct{}

// executeStep runs an in-band step in the background, as IPA does:
// write_image really fetches and verifies the image.
func executeStep(kind string) handler {
	return func(a *agent, c *command) (any, error) {
		step, _ := c.Params["step"].(map[string]any)
		name, _ := step["step"].(string)
		go func() {
			var err error
			if name == "write_image" {
				err = a.writeImage(step)
			}
			if err == nil {
				err = a.injectedFailure(name)
			}
			result := map[string]any{kind + "_result": nil, kind + "_step": step}
			a.finish(c, result, err)
		}()
		return asyncResult{}, nil
	}
}

// injectedFailure is the FailStep switch.
func (a *agent) injectedFailure(name string) error {
	cfg := a.stub.cfg
	if cfg.FailStep == "" || cfg.FailStep != name {
		return nil
	}
	if cfg.FailMessage != "" {
		return fmt.Errorf("%s", cfg.FailMessage)
	}
	return fmt.Errorf("%s failed (ipastub -fail-step)", name)
}

// writeImage downloads image_info.urls[0], checks it against
// os_hash_value (or the MD5 checksum) and writes it to <mac>.disk.
func (a *agent) writeImage(step map[string]any) error {
	args, _ := step["args"].(map[string]any)
	info, _ := args["image_info"].(map[string]any)
	urls, _ := info["urls"].([]any)
	if len(urls) == 0 {
		return fmt.Errorf("image_info has no urls")
	}
	source, _ := urls[0].(string)
	if err := loopbackOnly(source); err != nil {
		return err
	}
	algo, want := stringOf(info["os_hash_algo"]), stringOf(info["os_hash_value"])
	if want == "" {
		algo, want = "md5", stringOf(info["checksum"])
	}
	h, err := newHash(algo)
	if err != nil {
		return err
	}
	resp, err := a.stub.client.Get(source)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", source, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("downloading %s: %s", source, resp.Status)
	}
	disk := filepath.Join(a.stub.cfg.StateDir, fileName(a.boot.MAC)+".disk")
	f, err := os.Create(disk + ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(disk + ".tmp")
	_, err = io.Copy(io.MultiWriter(f, h), resp.Body)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("downloading %s: %w", source, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); want == "" || got != want {
		return fmt.Errorf("image %s: %s is %s, expected %q", source, algo, got, want)
	}
	a.logf("wrote image %s (%s verified)", source, algo)
	return os.Rename(disk+".tmp", disk)
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func newHash(algo string) (hash.Hash, error) {
	switch algo {
	case "sha256":
		return sha256.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha512":
		return sha512.New(), nil
	case "md5":
		return md5.New(), nil //nolint:gosec
	}
	return nil, fmt.Errorf("unsupported os_hash_algo %q", algo)
}

// finish records the end of an asynchronous command.
func (a *agent) finish(c *command, result any, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.settle(c, result, err)
	a.saveCommands()
}

// settle sets the command's outcome; a.mu is held.
func (a *agent) settle(c *command, result any, err error) {
	if err != nil {
		c.Status, c.Result = statusFailed, nil
		c.Error = &commandError{Type: "CommandExecutionError", Code: 500, Message: "Command execution failed", Details: err.Error()}
		a.logf("%s FAILED: %v", c.Name, err)
		return
	}
	c.Status, c.Result = statusSucceeded, result
	a.logf("%s SUCCEEDED", c.Name)
}

// saveCommands writes <mac>.commands.json; a.mu is held.
func (a *agent) saveCommands() {
	_ = writeJSON(filepath.Join(a.stub.cfg.StateDir, fileName(a.boot.MAC)+".commands.json"), a.commands)
}

func (a *agent) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/commands/{$}", a.runCommand)
	mux.HandleFunc("POST /v1/commands", a.runCommand)
	mux.HandleFunc("GET /v1/commands/{$}", a.listCommands)
	mux.HandleFunc("GET /v1/commands", a.listCommands)
	mux.HandleFunc("GET /v1/commands/{id}", a.getCommand)
	return mux
}

func fault(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"faultstring": fmt.Sprintf(format, args...), "faultcode": "Client"})
}

func reply(w http.ResponseWriter, value any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(value)
}

// authorized checks the agent_token query parameter of a command, as IPA
// does once it has a token (reading the commands' status needs none: Ironic
// sends none there).
func (a *agent) authorized(w http.ResponseWriter, r *http.Request) bool {
	a.mu.Lock()
	token := a.token
	a.mu.Unlock()
	if token != "" && r.URL.Query().Get("agent_token") != token {
		fault(w, http.StatusUnauthorized, "Invalid or missing agent_token")
		return false
	}
	return true
}

func (a *agent) runCommand(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(w, r) {
		return
	}
	var body struct {
		Name   string         `json:"name"`
		Params map[string]any `json:"params"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&body); err != nil {
		fault(w, http.StatusBadRequest, "Invalid command body: %v", err)
		return
	}
	run, known := handlers[body.Name]
	if !known {
		fault(w, http.StatusBadRequest, "Unknown command: %s", body.Name)
		return
	}
	method := body.Name[strings.Index(body.Name, ".")+1:]
	c := &command{ID: newID(), Name: method, Params: body.Params, Status: statusRunning}
	a.mu.Lock()
	if busy := a.running(); busy != nil {
		a.mu.Unlock()
		fault(w, http.StatusConflict, "Agent is busy executing a command: %s", busy.Name)
		return
	}
	a.commands = append(a.commands, c)
	a.saveCommands()
	a.mu.Unlock()
	a.logf("command %s", body.Name)

	result, err := run(a, c)
	if err == nil {
		err = a.injectedFailure(method)
	}
	if _, async := result.(asyncResult); !async || err != nil {
		a.finish(c, result, err)
	}
	if r.URL.Query().Get("wait") == "true" {
		a.waitFor(r.Context(), c)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	reply(w, c)
}

// running returns the command still running, if any; a.mu is held.
func (a *agent) running() *command {
	for _, c := range a.commands {
		if c.Status == statusRunning {
			return c
		}
	}
	return nil
}

func (a *agent) waitFor(ctx context.Context, c *command) {
	for {
		a.mu.Lock()
		status := c.Status
		a.mu.Unlock()
		if status != statusRunning || ctx.Err() != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *agent) listCommands(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	reply(w, map[string]any{"commands": a.commands})
}

func (a *agent) getCommand(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.commands {
		if c.ID == r.PathValue("id") {
			reply(w, c)
			return
		}
	}
	fault(w, http.StatusNotFound, "Command %s not found", r.PathValue("id"))
}
