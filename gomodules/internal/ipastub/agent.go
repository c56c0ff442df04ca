package ipastub

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Defaults of a Config.
const (
	// DefaultHeartbeatInterval is how often a booted agent heartbeats.
	DefaultHeartbeatInterval = time.Second
	// DefaultWatchInterval is how often the TFTP root is read for PXE configs.
	DefaultWatchInterval = 200 * time.Millisecond
	// AgentVersion is the IPA version the stub reports (IPA of OpenStack
	// 2023.1, matching Debian bookworm's Ironic).
	AgentVersion = "9.4.1"
	// lookupAPIVersion is the Bare Metal API version of lookup and heartbeat
	// with agent tokens.
	lookupAPIVersion = "1.68"
)

// Config says which nodes the stub plays and how.
type Config struct {
	// TFTPRoot is Ironic's [pxe]tftp_root (scripts/ironic.sh exports it as
	// IMAGEOPS_IRONIC_TFTP_ROOT).
	TFTPRoot string
	// StateDir receives <mac>.boot.json, <mac>.disk and <mac>.commands.json.
	StateDir string
	// HeartbeatInterval: default DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
	// WatchInterval: default DefaultWatchInterval.
	WatchInterval time.Duration
	// NoCallback: boot, serve commands, but never look up nor heartbeat.
	NoCallback bool
	// FailStep names a command (get_deploy_steps, install_bootloader, ...)
	// or an in-band step (write_image, erase_devices_metadata) answered FAILED.
	FailStep string
	// FailMessage is the error of a FailStep; default "<step> failed (ipastub -fail-step)".
	FailMessage string
	// Logger receives one line per event; default discards.
	Logger *log.Logger
}

// Stub watches the TFTP root and runs one agent per booted node.
type Stub struct {
	cfg    Config
	client *http.Client

	mu     sync.Mutex
	agents map[string]*agent // by MAC
}

// New checks cfg and returns a Stub; Run starts it.
func New(cfg Config) (*Stub, error) {
	if cfg.TFTPRoot == "" || cfg.StateDir == "" {
		return nil, errors.New("ipastub: TFTPRoot and StateDir are required")
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.WatchInterval <= 0 {
		cfg.WatchInterval = DefaultWatchInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = log.New(io.Discard, "", 0)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("making the stub's state directory: %w", err)
	}
	return &Stub{cfg: cfg, client: &http.Client{Timeout: 30 * time.Second}, agents: map[string]*agent{}}, nil
}

// Run watches the TFTP root until ctx ends, booting an agent for each PXE
// config that appears and powering it off when its config goes away.
func (s *Stub) Run(ctx context.Context) error {
	ticker := time.NewTicker(s.cfg.WatchInterval)
	defer ticker.Stop()
	defer s.powerOffAll()
	for {
		configs, err := pxeConfigs(s.cfg.TFTPRoot)
		if err != nil {
			return err
		}
		s.reconcile(ctx, configs)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Booted returns the MACs of the agents running now.
func (s *Stub) Booted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var macs []string
	for mac := range s.agents {
		macs = append(macs, mac)
	}
	return macs
}

// reconcile boots an agent for each new PXE config, and powers an agent
// off when its config was written again (Ironic prepared a new boot), or
// when its config is gone and the agent powered itself off, never called
// Ironic, or outlived powerOffGrace: a machine whose PXE config Ironic
// removed (once the instance is written, for local boot) runs on until it
// is powered off.
func (s *Stub) reconcile(ctx context.Context, configs map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for mac, a := range s.agents {
		path, still := configs[mac]
		if still && signature(path) == a.configSignature {
			continue
		}
		if still || a.finished() {
			a.powerOff("its PXE config is gone or was rewritten")
			delete(s.agents, mac)
		}
	}
	for mac, path := range configs {
		if _, running := s.agents[mac]; running {
			continue
		}
		a, err := s.boot(ctx, mac, path)
		if err != nil {
			// The config may be half written: try again next tick.
			s.cfg.Logger.Printf("%s: not booting yet: %v", mac, err)
			continue
		}
		s.agents[mac] = a
	}
}

// powerOffGrace is how long an agent whose PXE config is gone may run on.
const powerOffGrace = 30 * time.Second

// finished tells whether an agent whose PXE config is gone is off: it
// powered itself off, never reached Ironic, or outlived powerOffGrace.
func (a *agent) finished() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.configGoneAt.IsZero() {
		a.configGoneAt = time.Now()
	}
	return a.halted || a.nodeUUID == "" || time.Since(a.configGoneAt) > powerOffGrace
}

// signature tells two writes of a PXE config apart.
func signature(path string) string {
	info, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d", info.ModTime().UnixNano(), info.Size())
}

func (s *Stub) powerOffAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for mac, a := range s.agents {
		a.powerOff("the stub stops")
		delete(s.agents, mac)
	}
}

// pxeMAC matches the per-MAC PXE config names Ironic writes.
var pxeMAC = regexp.MustCompile(`^(?:grub\.cfg-)?01-([0-9a-f]{2}(?:-[0-9a-f]{2}){5})$`)

// pxeConfigs returns the MACs with a PXE config in root (grub's and
// pxelinux's), and the config's path.
func pxeConfigs(root string) (map[string]string, error) {
	found := map[string]string{}
	for _, dir := range []string{root, filepath.Join(root, "pxelinux.cfg")} {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the TFTP root: %w", err)
		}
		for _, entry := range entries {
			if m := pxeMAC.FindStringSubmatch(entry.Name()); m != nil {
				found[strings.ReplaceAll(m[1], "-", ":")] = filepath.Join(dir, entry.Name())
			}
		}
	}
	return found, nil
}

var (
	apiURLArg  = regexp.MustCompile(`ipa-api-url=(\S+)`)
	kernelPath = regexp.MustCompile(`(\S+/deploy_kernel)\b`)
	initrdPath = regexp.MustCompile(`(\S+/deploy_ramdisk)\b`)
)

// BootRecord is <mac>.boot.json: what the node booted.
type BootRecord struct {
	MAC           string    `json:"mac"`
	APIURL        string    `json:"api_url"`
	KernelSHA256  string    `json:"kernel_sha256"`
	RamdiskSHA256 string    `json:"ramdisk_sha256"`
	BootedAt      time.Time `json:"booted_at"`
}

// boot reads the node's PXE config and the deploy kernel and ramdisk it
// names, records them, and starts the agent.
func (s *Stub) boot(ctx context.Context, mac, configPath string) (*agent, error) {
	configSignature := signature(configPath)
	text, err := os.ReadFile(configPath)
	if err != nil {
		return nil, err
	}
	record := BootRecord{MAC: mac, BootedAt: time.Now().UTC()}
	m := apiURLArg.FindSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("%s names no ipa-api-url", configPath)
	}
	record.APIURL = string(m[1])
	if err := loopbackOnly(record.APIURL); err != nil {
		return nil, err
	}
	for _, image := range []struct {
		pattern *regexp.Regexp
		sum     *string
	}{{kernelPath, &record.KernelSHA256}, {initrdPath, &record.RamdiskSHA256}} {
		m := image.pattern.FindSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("%s names no %s", configPath, image.pattern)
		}
		if *image.sum, err = fileSHA256(filepath.Join(s.cfg.TFTPRoot, string(m[1]))); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(filepath.Join(s.cfg.StateDir, fileName(mac)+".boot.json"), record); err != nil {
		return nil, err
	}
	a, err := startAgent(ctx, s, record)
	if err != nil {
		return nil, err
	}
	a.configSignature = configSignature
	s.cfg.Logger.Printf("%s: booted kernel sha256 %s, ramdisk sha256 %s; agent on %s", mac, record.KernelSHA256, record.RamdiskSHA256, a.callbackURL)
	return a, nil
}

// fileName is how a MAC appears in the state directory's file names.
func fileName(mac string) string { return strings.ReplaceAll(mac, ":", "-") }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeJSON(path string, value any) error {
	data, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// loopbackOnly refuses URLs that leave the machine: the stub talks to the
// local Ironic and its image server only.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parsing URL %q: %w", raw, err)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing %q: the stub only talks to loopback", raw)
	}
	return nil
}

// agent is one booted node's agent.
type agent struct {
	stub *Stub
	boot BootRecord
	// configSignature is the PXE config's as the agent booted from it.
	configSignature string
	server          *http.Server
	callbackURL     string
	cancel          context.CancelFunc
	done            chan struct{}

	mu           sync.Mutex
	configGoneAt time.Time
	nodeUUID     string
	token        string
	commands     []*command
	halted       bool
}

func startAgent(parent context.Context, s *Stub, boot BootRecord) (*agent, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for agent commands: %w", err)
	}
	ctx, cancel := context.WithCancel(parent)
	a := &agent{stub: s, boot: boot, cancel: cancel, done: make(chan struct{}),
		callbackURL: "http://" + listener.Addr().String()}
	a.server = &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.server.Serve(listener) }()
	go func() {
		defer close(a.done)
		if !s.cfg.NoCallback {
			a.callBack(ctx)
		}
	}()
	return a, nil
}

func (a *agent) logf(format string, args ...any) {
	a.stub.cfg.Logger.Printf(a.boot.MAC+": "+format, args...)
}

func (a *agent) powerOff(why string) {
	a.cancel()
	<-a.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.server.Shutdown(ctx)
	a.logf("powered off: %s", why)
}

// callBack looks the node up until Ironic knows it, then heartbeats until
// ctx ends.
func (a *agent) callBack(ctx context.Context) {
	ticker := time.NewTicker(a.stub.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		a.mu.Lock()
		uuid, halted := a.nodeUUID, a.halted
		a.mu.Unlock()
		switch {
		case halted:
		case uuid == "":
			if err := a.lookup(ctx); err != nil {
				a.logf("lookup: %v", err)
			}
		default:
			if err := a.heartbeat(ctx); err != nil {
				a.logf("heartbeat: %v", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

type lookupAnswer struct {
	Node struct {
		UUID string `json:"uuid"`
	} `json:"node"`
	Config struct {
		AgentToken string `json:"agent_token"`
	} `json:"config"`
}

func (a *agent) lookup(ctx context.Context) error {
	query := url.Values{"addresses": {a.boot.MAC}}
	var answer lookupAnswer
	if err := a.call(ctx, http.MethodGet, "/v1/lookup?"+query.Encode(), nil, &answer); err != nil {
		return err
	}
	if answer.Config.AgentToken == "" || strings.Trim(answer.Config.AgentToken, "*") == "" {
		return fmt.Errorf("node %s: Ironic handed out no agent token (it already gave one to another agent)", answer.Node.UUID)
	}
	a.mu.Lock()
	a.nodeUUID, a.token = answer.Node.UUID, answer.Config.AgentToken
	a.mu.Unlock()
	a.logf("looked up: node %s", answer.Node.UUID)
	return a.heartbeat(ctx)
}

func (a *agent) heartbeat(ctx context.Context) error {
	a.mu.Lock()
	uuid, token := a.nodeUUID, a.token
	a.mu.Unlock()
	body := map[string]string{"callback_url": a.callbackURL, "agent_version": AgentVersion, "agent_token": token}
	return a.call(ctx, http.MethodPost, "/v1/heartbeat/"+uuid, body, nil)
}

// call sends one request to Ironic's API and decodes a 2xx answer into out.
func (a *agent) call(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(a.boot.APIURL, "/")+path, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-OpenStack-Ironic-API-Version", lookupAPIVersion)
	resp, err := a.stub.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// newID returns a random command ID.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
