package imagebuild

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imageops/cloud/gomodules/scratch"
)

// workPrefix starts the name of a build's working directory in output_dir;
// those of killed builds are removed by the next build.
const workPrefix = ".image_build-"

type options struct {
	progress io.Writer
	now      func() time.Time
}

// Option configures Build.
type Option func(*options) error

// WithProgress writes a line per stage (its name and the elapsed time) to w.
// Default: io.Discard.
func WithProgress(w io.Writer) Option {
	return func(o *options) error {
		if w == nil {
			return fmt.Errorf("progress writer is nil")
		}
		o.progress = w
		return nil
	}
}

// builder holds one build's state.
type builder struct {
	opts    options
	cfg     Config
	spec    Spec
	work    string // working directory, removed at the end
	root    string // the root filesystem's folder
	epoch   int64
	start   time.Time
	stage   time.Time
	seconds map[string]float64
	layout  layout
	// stageName is the stage running, for progress lines.
	stageName string
}

// Build makes the spec's images and their build record. Outputs are made in
// a working directory in output_dir and moved into place at the end, the
// record last: an interrupted build leaves no record that matches, and no
// file where a finished output belongs other than a previous build's.
func Build(ctx context.Context, spec Spec, opts ...Option) (Record, error) {
	o := options{progress: io.Discard, now: time.Now}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return Record{}, err
		}
	}
	cfg := spec.Config
	if err := cfg.checkHostTools(); err != nil {
		return Record{}, err
	}
	if err := os.MkdirAll(cfg.OutputDir, 0o755); err != nil {
		return Record{}, fmt.Errorf("creating output_dir %q: %w", cfg.OutputDir, err)
	}
	logFile, err := os.Create(cfg.LogPath())
	if err != nil {
		return Record{}, fmt.Errorf("creating the build log: %w", err)
	}
	defer logFile.Close()
	o.progress = io.MultiWriter(o.progress, logFile)
	if _, err := scratch.ReclaimDirs(cfg.OutputDir, workPrefix); err != nil {
		return Record{}, fmt.Errorf("removing leftovers of killed builds in %q: %w", cfg.OutputDir, err)
	}
	dir, err := scratch.MkdirLocked(cfg.OutputDir, workPrefix)
	if err != nil {
		return Record{}, fmt.Errorf("creating a working directory in %q: %w", cfg.OutputDir, err)
	}
	defer dir.Remove()
	b := &builder{opts: o, cfg: cfg, spec: spec, work: dir.Path, root: filepath.Join(dir.Path, "root"),
		start: o.now(), seconds: map[string]float64{}}
	b.stage = b.start
	b.epoch = sourceDateEpoch(cfg, b.start)
	b.layout = newLayout(cfg)
	rec, err := b.run(ctx)
	if err != nil {
		b.progress("failed: %v", err)
	}
	return rec, err
}

// sourceDateEpoch is the spec's epoch, else SOURCE_DATE_EPOCH, else now.
func sourceDateEpoch(cfg Config, now time.Time) int64 {
	if cfg.SourceDateEpoch > 0 {
		return cfg.SourceDateEpoch
	}
	if v, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil && v > 0 {
		return v
	}
	return now.Unix()
}

func (b *builder) run(ctx context.Context) (Record, error) {
	rec := Record{Tool: Tool, ToolVersion: ToolVersion, SpecSHA256: b.cfg.SpecSHA256(), Variables: b.spec.Variables,
		VarFiles: b.spec.VarFiles, Mirror: b.cfg.Mirror, SourceDateEpoch: b.epoch, Seconds: b.seconds}
	if rec.VarFiles == nil {
		rec.VarFiles = []string{}
	}
	type step struct {
		name string
		do   func(context.Context, *Record) error
	}
	var steps []step
	if b.fetchesComponents() {
		steps = append(steps, step{"fetch", b.fetchComponents})
	}
	steps = append(steps, []step{
		{"bootstrap", b.bootstrap},
		{"configure", b.configure},
		{"esp", b.makeESP},
		{"root", b.makeRoot},
		{"disk", b.makeDisk},
		{"formats", b.makeFormats},
	}...)
	for _, s := range steps {
		b.stageName = s.name
		b.progress("%s: started", s.name)
		if err := s.do(ctx, &rec); err != nil {
			return Record{}, fmt.Errorf("building image %q, stage %s: %w", b.cfg.Name, s.name, err)
		}
		b.endStage(s.name)
	}
	var err error
	if rec.HostTools, err = hostTools(ctx); err != nil {
		return Record{}, err
	}
	if err := b.install(&rec); err != nil {
		return Record{}, err
	}
	b.progress("done")
	return rec, nil
}

func (b *builder) progress(format string, args ...any) {
	fmt.Fprintf(b.opts.progress, "image_build %s [%6.1fs] %s\n", b.cfg.Name, b.opts.now().Sub(b.start).Seconds(), fmt.Sprintf(format, args...))
}

func (b *builder) endStage(name string) {
	now := b.opts.now()
	b.seconds[name] = now.Sub(b.stage).Round(time.Millisecond).Seconds()
	b.stage = now
}

// environment is the tools' environment: the epoch and the proxies.
func (b *builder) environment() []string {
	env := append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(b.epoch, 10),
		"E2FSPROGS_FAKE_TIME="+strconv.FormatInt(b.epoch, 10), "MTOOLS_SKIP_CHECK=1", "LC_ALL=C.UTF-8")
	for name, value := range map[string]string{"http_proxy": b.cfg.HTTPProxy, "https_proxy": b.cfg.HTTPSProxy, "no_proxy": b.cfg.NoProxy} {
		if value != "" {
			env = append(env, name+"="+value, strings.ToUpper(name)+"="+value)
		}
	}
	return env
}

// command runs a tool; its error carries the end of the tool's output.
func (b *builder) command(ctx context.Context, stdin io.Reader, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Stdin, cmd.Dir = b.environment(), stdin, b.work
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("running %s: %w: %s", name, err, tail(out.String(), 2000))
	}
	return out.String(), nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// bootstrap makes the root filesystem in a folder with mmdebstrap.
func (b *builder) bootstrap(ctx context.Context, rec *Record) error {
	args, err := b.mmdebstrapArgs()
	if err != nil {
		return err
	}
	if _, err := b.commandWithProgress(ctx, "mmdebstrap", args...); err != nil {
		return err
	}
	out, err := b.command(ctx, nil, "dpkg-query", "--admindir="+filepath.Join(b.root, "var/lib/dpkg"),
		"-W", "-f=${Package}\t${Version}\n")
	if err != nil {
		return err
	}
	rec.Packages = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if name, version, ok := strings.Cut(line, "\t"); ok {
			rec.Packages[name] = version
		}
	}
	return nil
}

// configure writes what a first boot needs: fstab, an empty machine-id (made
// at first boot), the hostname, the kernel command line.
func (b *builder) configure(ctx context.Context, rec *Record) error {
	files := map[string]string{
		"etc/fstab":          fmt.Sprintf("UUID=%s / ext4 errors=remount-ro 0 1\n", b.layout.rootFSUUID),
		"etc/machine-id":     "",
		"etc/hostname":       "localhost\n",
		"etc/kernel/cmdline": b.layout.cmdline(b.cfg) + "\n",
	}
	for name, content := range files {
		path := filepath.Join(b.root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("creating %q: %w", filepath.Dir(path), err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("writing %q: %w", path, err)
		}
	}
	for _, name := range []string{"var/lib/dbus/machine-id", "etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_rsa_key.pub",
		"etc/ssh/ssh_host_ecdsa_key", "etc/ssh/ssh_host_ecdsa_key.pub", "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ed25519_key.pub"} {
		if err := os.Remove(filepath.Join(b.root, name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("removing %q: %w", name, err)
		}
	}
	kernel, err := installedKernel(b.root)
	if err != nil {
		return err
	}
	rec.Kernel = kernel
	return nil
}

// installedKernel returns the release of the one kernel in root's /boot.
func installedKernel(root string) (string, error) {
	kernels, err := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if err != nil || len(kernels) == 0 {
		return "", fmt.Errorf("finding the kernel in %s/boot: none installed (is linux-image-amd64 available from the mirror?)", root)
	}
	sort.Strings(kernels)
	release := strings.TrimPrefix(filepath.Base(kernels[len(kernels)-1]), "vmlinuz-")
	if _, err := os.Stat(filepath.Join(root, "boot", "initrd.img-"+release)); err != nil {
		return "", fmt.Errorf("finding the initramfs of kernel %s: %w", release, err)
	}
	return release, nil
}
