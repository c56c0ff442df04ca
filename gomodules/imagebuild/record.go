package imagebuild

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	json "github.com/goccy/go-json"
)

// Tool is the builder's name in build records.
const Tool = "imageops.cloud.image_build"

// ToolVersion is the build recipe's version, recorded in every build
// record: a record of another version does not match, so a change of recipe
// rebuilds.
const ToolVersion = "1"

// Record is a build record, <name>.build.json beside the outputs.
type Record struct {
	Tool        string `json:"tool"`
	ToolVersion string `json:"tool_version"`
	// SpecSHA256 is the hex SHA-256 of the spec's canonical JSON: a record
	// matches a spec when they are equal.
	SpecSHA256 string `json:"spec_sha256"`
	// Variables are every build variable with its final value and source.
	Variables map[string]Variable `json:"variables"`
	VarFiles  []string            `json:"var_files"`
	Mirror    string              `json:"mirror"`
	// SourceDateEpoch is the epoch the files were stamped with (seconds).
	SourceDateEpoch int64 `json:"source_date_epoch"`
	// Packages maps each installed package to its version.
	Packages map[string]string `json:"packages"`
	Kernel   string            `json:"kernel"` // the installed kernel's release
	// Outputs maps each format to its file.
	Outputs map[string]Output `json:"outputs"`
	// Host tools' versions (mmdebstrap, mke2fs, qemu-img).
	HostTools map[string]string `json:"host_tools"`
	// Seconds is how long each stage took.
	Seconds map[string]float64 `json:"seconds"`
}

// Output is one image file in a build record.
type Output struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	Size   int64  `json:"size"` // bytes of the file
	SHA256 string `json:"sha256"`
	SHA512 string `json:"sha512"`
}

// RecordPath is the build record's path for cfg.
func (c Config) RecordPath() string { return filepath.Join(c.OutputDir, c.Name+".build.json") }

// OutputPath is the path of the image in format f.
func (c Config) OutputPath(f string) string { return filepath.Join(c.OutputDir, c.Name+"."+f) }

// SpecSHA256 is the hex SHA-256 of the config's canonical JSON and the
// tool version: what a record must hold to match.
func (c Config) SpecSHA256() string {
	encoded, _ := json.Marshal(struct {
		Config
		ToolVersion string `json:"tool_version"`
	}{c, ToolVersion}) // a struct of strings, ints and slices always encodes
	sum := sha256.Sum256(encoded)
	return hex.EncodeToString(sum[:])
}

// ReadRecord reads a build record; a missing one is (nil, nil).
func ReadRecord(path string) (*Record, error) {
	content, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading build record %q: %w", path, err)
	}
	var r Record
	if err := json.Unmarshal(content, &r); err != nil {
		return nil, fmt.Errorf("parsing build record %q: %w", path, err)
	}
	return &r, nil
}

// WriteRecord writes the record atomically (a temporary file renamed).
func WriteRecord(path string, r Record) error {
	encoded, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding build record: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(encoded, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing build record %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("renaming build record into %q: %w", path, err)
	}
	return nil
}

// digestFile returns a file's size, SHA-256 and SHA-512, in one read.
func digestFile(path string) (int64, string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", "", fmt.Errorf("opening %q to hash it: %w", path, err)
	}
	defer f.Close()
	h256, h512 := sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(h256, h512), f)
	if err != nil {
		return 0, "", "", fmt.Errorf("hashing %q: %w", path, err)
	}
	return n, hex.EncodeToString(h256.Sum(nil)), hex.EncodeToString(h512.Sum(nil)), nil
}

// Planned is what Plan found: whether to build, and why.
type Planned struct {
	Build          bool
	Reason         string
	RecordPath     string
	SpecSHA256     string
	RecordedSHA256 string // "" without a record
	Outputs        map[string]string
	Existing       *Record // the matching record when Build is false
}

// Plan compares the spec with the build record beside its outputs: the
// image is built when force is set, the record is missing or of another
// spec, or an output is missing or not of its recorded size.
func Plan(spec Spec, force bool) (Planned, error) {
	cfg := spec.Config
	p := Planned{RecordPath: cfg.RecordPath(), SpecSHA256: cfg.SpecSHA256(), Outputs: map[string]string{}}
	for _, f := range cfg.Formats {
		p.Outputs[f] = cfg.OutputPath(f)
	}
	rec, err := ReadRecord(p.RecordPath)
	if err != nil {
		return p, err
	}
	if rec != nil {
		p.RecordedSHA256 = rec.SpecSHA256
	}
	p.Reason = staleReason(rec, cfg, p.SpecSHA256, force)
	p.Build = p.Reason != ""
	if !p.Build {
		p.Existing = rec
	}
	return p, nil
}

func staleReason(rec *Record, cfg Config, sum string, force bool) string {
	switch {
	case force:
		return "force is set"
	case rec == nil:
		return "no build record"
	case rec.SpecSHA256 != sum:
		return "the spec differs from the build record's"
	}
	for _, f := range cfg.Formats {
		out, ok := rec.Outputs[f]
		if !ok {
			return "the build record has no " + f + " output"
		}
		info, err := os.Stat(cfg.OutputPath(f))
		if err != nil || info.Size() != out.Size {
			return "output " + cfg.OutputPath(f) + " is missing or not the recorded size"
		}
	}
	return ""
}
