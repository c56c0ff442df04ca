package mirrortest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RealFiles returns existing files of this machine to put in layers: a few
// system files and the Go sources of this package.
func RealFiles() []string {
	var files []string
	for _, f := range []string{"/etc/os-release", "/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0"} {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	if _, self, _, ok := runtime.Caller(0); ok {
		sources, _ := filepath.Glob(filepath.Join(filepath.Dir(self), "*.go"))
		files = append(files, sources...)
	}
	return files
}

// Image builds an OCI image for platform with two layers: a tar of files
// (read from this machine), and a tar of one file naming the platform and
// salt, so that images of different salts or platforms differ.
func Image(platform v1.Platform, salt string, files ...string) (v1.Image, error) {
	base, err := tarLayer(func(w *tar.Writer) error {
		for _, f := range files {
			content, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if err := addFile(w, filepath.Join("files", filepath.Base(f)), content); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	top, err := tarLayer(func(w *tar.Writer) error {
		return addFile(w, "etc/imageops-test", []byte(fmt.Sprintf("platform=%s\nsalt=%s\n", platform.String(), salt)))
	})
	if err != nil {
		return nil, err
	}
	return imageOf(types.OCIManifestSchema1, types.OCIConfigJSON, platform,
		map[string]string{"org.imageops.test.salt": salt}, base, top)
}

// imageOf builds an image of the given manifest and config media types, for
// platform, with labels, from layers.
func imageOf(manifestType, configType types.MediaType, platform v1.Platform, labels map[string]string, layers ...v1.Layer) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, manifestType), configType)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = platform.OS, platform.Architecture, platform.Variant
	cfg.Config.Labels = labels
	return mutate.ConfigFile(img, cfg)
}

// Index builds an OCI index of one Image per platform.
func Index(salt string, platforms []v1.Platform, files ...string) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img, err := Image(p, salt, files...)
		if err != nil {
			return nil, err
		}
		p := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx, nil
}

// Push writes t (an image or index) to ref and returns its digest.
func Push(ctx context.Context, ref string, t remote.Taggable, opts ...remote.Option) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	if err := remote.Push(r, t, append(opts, remote.WithContext(ctx))...); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := t.(interface{ Digest() (v1.Hash, error) }).Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

func tarLayer(fill func(*tar.Writer) error) (v1.Layer, error) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	if err := fill(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	content := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

func addFile(w *tar.Writer, path string, content []byte) error {
	if err := w.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := w.Write(content)
	return err
}
