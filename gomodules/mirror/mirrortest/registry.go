package mirrortest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Binary is the registry program started by Start.
const Binary = "docker-registry"

// Registry is one running docker-registry bound to 127.0.0.1.
type Registry struct {
	// Host is "127.0.0.1:PORT".
	Host string
	// CAFile is the PEM file of the CA that signed the server certificate,
	// "" when the registry speaks plain HTTP.
	CAFile string
	// Username and Password are the htpasswd credentials, "" without auth.
	Username, Password string

	cmd  *exec.Cmd
	dir  string
	done chan error
}

type config struct {
	tls                bool
	username, password string
}

// Option configures Start.
type Option func(*config)

// WithTLS serves HTTPS with a certificate for 127.0.0.1 signed by a new CA
// (Registry.CAFile). Default: plain HTTP.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithBasicAuth requires the htpasswd credentials user and password (bcrypt,
// written with Debian's htpasswd) and implies WithTLS, as distribution
// requires. Default: no authentication.
func WithBasicAuth(user, password string) Option {
	return func(c *config) { c.tls, c.username, c.password = true, user, password }
}

// Start starts a registry whose storage and configuration live in a
// directory of t and stops it when t ends. Without the docker-registry
// binary the test is skipped, or fails when IMAGEOPS_REQUIRE_SERVICES=1.
func Start(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	if _, err := exec.LookPath(Binary); err != nil {
		if os.Getenv("IMAGEOPS_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not installed (scripts/install-deps.sh installs it)", Binary)
		}
		t.Skipf("%s is not installed; run scripts/install-deps.sh", Binary)
	}
	r, err := StartIn(t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("starting a registry: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stopping the registry %s: %v", r.Host, err)
		}
	})
	return r
}

// StartIn starts a registry with its files in dir and waits until it
// answers /v2/ (up to 15 s). The caller must call Stop.
func StartIn(dir string, opts ...Option) (*Registry, error) {
	var c config
	for _, apply := range opts {
		apply(&c)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &Registry{Host: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, Username: c.username, Password: c.password}
	var conf strings.Builder
	fmt.Fprintf(&conf, "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n")
	fmt.Fprintf(&conf, "storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n", filepath.Join(dir, "data"))
	fmt.Fprintf(&conf, "http:\n  addr: %s\n", r.Host)
	if c.tls {
		if err := r.writeCertificates(); err != nil {
			return nil, err
		}
		fmt.Fprintf(&conf, "  tls:\n    certificate: %s\n    key: %s\n", filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))
	}
	if c.username != "" {
		if err := writeHtpasswd(filepath.Join(dir, "htpasswd"), c.username, c.password); err != nil {
			return nil, err
		}
		fmt.Fprintf(&conf, "auth:\n  htpasswd:\n    realm: imageops-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	if err := os.WriteFile(r.configPath(), []byte(conf.String()), 0o600); err != nil {
		return nil, fmt.Errorf("writing the registry configuration: %w", err)
	}
	if err := r.serve(); err != nil {
		return nil, err
	}
	return r, nil
}

// serve starts "docker-registry serve" on the configuration in r.dir and
// waits until it answers /v2/ (up to 15 s).
func (r *Registry) serve() error {
	logFile, err := os.OpenFile(filepath.Join(r.dir, "registry.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	r.cmd = exec.Command(Binary, "serve", r.configPath())
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s: %w", Binary, err)
	}
	r.done = make(chan error, 1)
	go func() { r.done <- r.cmd.Wait(); logFile.Close() }()
	if err := r.wait(15 * time.Second); err != nil {
		_ = r.Stop()
		log, _ := os.ReadFile(filepath.Join(r.dir, "registry.log"))
		return fmt.Errorf("%w; registry log:\n%s", err, log)
	}
	return nil
}

func (r *Registry) configPath() string { return filepath.Join(r.dir, "config.yml") }

// GarbageCollect stops the registry, runs "docker-registry garbage-collect"
// on its storage (with --delete-untagged when deleteUntagged: manifests no
// tag names are deleted too) while nothing serves it, as distribution
// requires, and starts it again on the same address. It returns the
// command's output, which lists what was marked and deleted.
func (r *Registry) GarbageCollect(deleteUntagged bool) (string, error) {
	if err := r.Stop(); err != nil {
		return "", err
	}
	args := []string{"garbage-collect", r.configPath()}
	if deleteUntagged {
		args = append(args, "--delete-untagged")
	}
	out, err := exec.Command(Binary, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", Binary, strings.Join(args, " "), err, out)
	}
	return string(out), r.serve()
}

// Stop ends the registry process and waits for it.
func (r *Registry) Stop() error {
	if r.cmd == nil || r.cmd.Process == nil {
		return nil
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	r.cmd = nil
	return nil
}

// Client is an HTTP client that trusts the registry's CA.
func (r *Registry) Client() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if r.CAFile != "" {
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(r.CAFile)
		pool.AppendCertsFromPEM(pem)
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t, Timeout: 5 * time.Second}
}

// URL is the registry's base URL, "http(s)://127.0.0.1:PORT".
func (r *Registry) URL() string {
	if r.CAFile != "" {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (r *Registry) wait(limit time.Duration) error {
	client := r.Client()
	deadline := time.Now().Add(limit)
	for {
		select {
		case err := <-r.done:
			r.done <- err
			return fmt.Errorf("%s exited before answering: %v", Binary, err)
		default:
		}
		resp, err := client.Get(r.URL() + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s on %s did not answer within %s: %v", Binary, r.Host, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writeHtpasswd(path, user, password string) error {
	cmd := exec.Command("htpasswd", "-niB", user)
	cmd.Stdin = strings.NewReader(password + "\n")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("htpasswd (apache2-utils): %v: %s", err, stderr.String())
	}
	return os.WriteFile(path, out.Bytes(), 0o600)
}

// writeCertificates writes ca.pem, server.pem and server-key.pem in r.dir.
func (r *Registry) writeCertificates() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imageops test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	r.CAFile = filepath.Join(r.dir, "ca.pem")
	return errors.Join(
		writePEM(r.CAFile, "CERTIFICATE", caDER),
		writePEM(filepath.Join(r.dir, "server.pem"), "CERTIFICATE", leafDER),
		writePEM(filepath.Join(r.dir, "server-key.pem"), "EC PRIVATE KEY", keyDER),
	)
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}
