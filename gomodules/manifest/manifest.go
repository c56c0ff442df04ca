package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/registryaccess"
)

// DefaultVarName is the file's top-level key by default.
const DefaultVarName = "container_images"

// fileMode is the mode of a new manifest (an existing file keeps its mode).
const fileMode fs.FileMode = 0o644

// ErrExists is wrapped when Path holds a different file and Force is false.
var ErrExists = errors.New("the manifest file exists with different content")

// Request is what to write.
type Request struct {
	// Images maps each name to a reference.
	Images map[string]string
	// Registry is the target "host[:port][/path]"; nil keeps references as given.
	Registry *string
	// Strategy is flatten (default), path or scoped.
	Strategy string
	// Path is the YAML file to write; "" only computes the manifest.
	Path string
	// VarName is the top-level key, DefaultVarName when "".
	VarName string
	// Force overwrites a different existing file.
	Force bool
	// PinDigests resolves each reference without a digest at its source.
	PinDigests bool
	// CheckMode computes and compares but writes nothing.
	CheckMode bool
}

// Result is what Write did (or, in check mode, would do).
type Result struct {
	// Changed is true when the file was (or would be) written.
	Changed bool `json:"changed"`
	// Manifest maps each name to its written reference.
	Manifest map[string]string `json:"manifest"`
	// Path is the file, absent when none was asked for.
	Path string `json:"path,omitempty"`
	// Diff holds the file before and after, when it changed.
	Diff *Diff `json:"diff,omitempty"`
}

// Diff is Ansible's diff of the file.
type Diff struct {
	Before       string `json:"before"`
	After        string `json:"after"`
	BeforeHeader string `json:"before_header"`
	AfterHeader  string `json:"after_header"`
}

// Write builds the manifest and writes it to req.Path when it differs.
// resolve options (credentials, TLS) are used only with PinDigests. Errors
// name the image, the file or the option at fault.
func Write(ctx context.Context, req Request, resolve ...registryaccess.Option) (*Result, error) {
	manifest, err := Build(ctx, req, resolve...)
	if err != nil {
		return nil, err
	}
	result := &Result{Manifest: manifest, Path: req.Path}
	if req.Path == "" {
		return result, nil
	}
	content, err := Render(varName(req.VarName), manifest)
	if err != nil {
		return nil, err
	}
	existing, err := os.ReadFile(req.Path)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading the existing manifest %s: %w", req.Path, err)
	case exists && bytes.Equal(existing, content):
		return result, nil
	case exists && !req.Force:
		return nil, fmt.Errorf("%w: %s; set force: true to overwrite it", ErrExists, req.Path)
	}
	result.Changed = true
	result.Diff = &Diff{Before: string(existing), After: string(content), BeforeHeader: req.Path, AfterHeader: req.Path}
	if req.CheckMode {
		return result, nil
	}
	if err := writeAtomic(req.Path, content); err != nil {
		return nil, err
	}
	return result, nil
}

// Build returns name -> reference: rewritten to req.Registry by
// req.Strategy, pinned when req.PinDigests. With no registry and no pinning
// the references are returned as given. As Atmosphere's docker_image filter
// writes them, a rewritten reference keeps the source's tag and digest, and
// has no tag when the source had neither.
func Build(ctx context.Context, req Request, resolve ...registryaccess.Option) (map[string]string, error) {
	strategy, err := imageref.ParseStrategy(req.Strategy)
	if err != nil {
		return nil, fmt.Errorf("option strategy: %w", err)
	}
	var registry *imageref.Registry
	if req.Registry != nil {
		r, err := imageref.ParseRegistry(*req.Registry)
		if err != nil {
			return nil, fmt.Errorf("option registry: %w", err)
		}
		registry = &r
	}
	plan, err := imageref.Plan(req.Images, registry, strategy)
	if err != nil {
		return nil, err
	}
	digests := map[string]string{}
	if req.PinDigests {
		var sources []imageref.Reference
		for _, m := range plan {
			if m.Source.Digest == "" {
				sources = append(sources, m.Source)
			}
		}
		if digests, err = registryaccess.Resolve(ctx, sources, resolve...); err != nil {
			return nil, fmt.Errorf("pin_digests: %w", err)
		}
	}
	out := make(map[string]string, len(plan))
	for _, m := range plan {
		switch {
		case m.Source.Digest == "" && req.PinDigests:
			out[m.Name] = m.Target.Pinned(digests[m.Source.String()]).String()
		case registry == nil:
			out[m.Name] = strings.TrimSpace(m.Original)
		default:
			out[m.Name] = m.Written()
		}
	}
	return out, nil
}

// Render is the file's content: varName mapping each name (sorted) to its
// reference, byte for byte as Atmosphere's image_manifest role writes it
// (Ansible's to_nice_yaml(indent=2), no header), so that a diff between
// the two tools' manifests is empty.
func Render(varName string, manifest map[string]string) ([]byte, error) {
	content, err := renderNice(varName, manifest)
	if err != nil {
		return nil, fmt.Errorf("rendering the manifest as YAML: %w", err)
	}
	return content, nil
}

func varName(name string) string {
	if name == "" {
		return DefaultVarName
	}
	return name
}

// writeAtomic replaces path with content through a synced temporary file in
// the same directory; the temporary file is removed on any failure. An
// existing file keeps its mode.
func writeAtomic(path string, content []byte) (err error) {
	dir := filepath.Dir(path)
	mode := fileMode
	if info, err := os.Stat(path); err == nil {
		mode = info.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing the manifest %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(content); err != nil {
		return fmt.Errorf("writing the manifest %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing the manifest %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing the manifest %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing the manifest %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the manifest %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
