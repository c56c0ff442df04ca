package buildrecord

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
	"strings"

	json "github.com/goccy/go-json"
)

// Suffix ends a build record's file name: <name>.build.json.
const Suffix = ".build.json"

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
	// Host tools' versions (mmdebstrap, mke2fs, qemu-img, ...).
	HostTools map[string]string `json:"host_tools"`
	// Seconds is how long each stage took.
	Seconds map[string]float64 `json:"seconds"`
}

// Variable is one build variable as the build record shows it.
type Variable struct {
	Value  any    `json:"value"`
	Source string `json:"source"` // "default", "task" or a var file's path
}

// Output is one image file in a build record.
type Output struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	Size   int64  `json:"size"` // bytes of the file
	SHA256 string `json:"sha256"`
	SHA512 string `json:"sha512"`
}

// Read reads a build record; a missing one is (nil, nil).
func Read(path string) (*Record, error) {
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

// Write writes the record atomically (a temporary file renamed).
func Write(path string, r Record) error {
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

// Digest returns a file's size, hex SHA-256 and hex SHA-512, in one read.
func Digest(path string) (size int64, sha256Hex, sha512Hex string, err error) {
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

// PathBeside is the path of the build record of the image at imagePath: in
// the same directory, the image's name without its last extension, then
// Suffix (/srv/out/debian-12.qcow2: /srv/out/debian-12.build.json).
func PathBeside(imagePath string) string {
	base := filepath.Base(imagePath)
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return filepath.Join(filepath.Dir(imagePath), base+Suffix)
}

// Beside reads the build record beside the image at imagePath and returns
// it with the output that is this file (the output whose file has the
// image's name), nil when the record lists no such output. It returns
// (nil, nil, nil) when there is no record, an error when it cannot be read.
func Beside(imagePath string) (*Record, *Output, error) {
	rec, err := Read(PathBeside(imagePath))
	if rec == nil || err != nil {
		return nil, nil, err
	}
	for _, format := range sortedKeys(rec.Outputs) {
		out := rec.Outputs[format]
		if filepath.Base(out.Path) == filepath.Base(imagePath) {
			return rec, &out, nil
		}
	}
	return rec, nil, nil
}
