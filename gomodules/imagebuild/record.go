package imagebuild

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"

	json "github.com/goccy/go-json"

	"github.com/imageops/cloud/gomodules/buildrecord"
)

// Tool is the builder's name in build records.
const Tool = "imageops.cloud.image_build"

// ToolVersion is the build recipe's version, recorded in every build
// record: a record of another version does not match, so a change of recipe
// rebuilds.
const ToolVersion = "2"

// Record is a build record, <name>.build.json beside the outputs (see
// package buildrecord).
type Record = buildrecord.Record

// Output is one image file in a build record.
type Output = buildrecord.Output

// RecordPath is the build record's path for cfg.
func (c Config) RecordPath() string { return filepath.Join(c.OutputDir, c.Name+buildrecord.Suffix) }

// LogPath is the path of the build log: each stage's progress lines, as
// written on the module's standard error, for `tail -f` while Ansible waits
// for the module. Each build replaces it.
func (c Config) LogPath() string { return filepath.Join(c.OutputDir, c.Name+".build.log") }

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
func ReadRecord(path string) (*Record, error) { return buildrecord.Read(path) }

// WriteRecord writes the record atomically (a temporary file renamed).
func WriteRecord(path string, r Record) error { return buildrecord.Write(path, r) }

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
