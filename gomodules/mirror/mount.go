package mirror

import (
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// mounter remembers, for one Mirror run, which target repository received
// each layer, so that another repository of the same registry mounts the
// layer (one request, no bytes) instead of uploading it again. Images of
// one deployment share their base layers, so this saves most of the upload.
// A registry that refuses the mount answers with an upload session, and the
// layer is uploaded as usual.
type mounter struct {
	mu    sync.Mutex
	where map[string]map[v1.Hash]name.Repository // registry -> layer digest -> a repository holding it
}

func newMounter() *mounter {
	return &mounter{where: map[string]map[v1.Hash]name.Repository{}}
}

// from returns another repository of repo's registry that holds layer h.
func (m *mounter) from(repo name.Repository, h v1.Hash) (name.Repository, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	other, ok := m.where[repo.RegistryStr()][h]
	return other, ok && other.Name() != repo.Name()
}

// record notes that repo now holds the layers.
func (m *mounter) record(repo name.Repository, layers []v1.Hash) {
	m.mu.Lock()
	defer m.mu.Unlock()
	blobs := m.where[repo.RegistryStr()]
	if blobs == nil {
		blobs = map[v1.Hash]name.Repository{}
		m.where[repo.RegistryStr()] = blobs
	}
	for _, h := range layers {
		if _, known := blobs[h]; !known {
			blobs[h] = repo
		}
	}
}

// wrap returns what to push to repo for desc (an image or an index whose
// layers are mountable from earlier pushes) and the set of layers handed out,
// to record once the push succeeded. Other media types are pushed as they are.
func (m *mounter) wrap(t remote.Taggable, repo name.Repository) (remote.Taggable, *layerSet, error) {
	seen := &layerSet{}
	switch v := t.(type) {
	case *remote.Descriptor:
		switch {
		case v.MediaType.IsIndex():
			idx, err := v.ImageIndex()
			if err != nil {
				return nil, nil, err
			}
			return mountIndex{inner: idx, m: m, repo: repo, seen: seen}, seen, nil
		case v.MediaType.IsImage():
			img, err := v.Image()
			if err != nil {
				return nil, nil, err
			}
			return mountImage{Image: img, m: m, repo: repo, seen: seen}, seen, nil
		}
	case v1.ImageIndex:
		return mountIndex{inner: v, m: m, repo: repo, seen: seen}, seen, nil
	case v1.Image:
		return mountImage{Image: v, m: m, repo: repo, seen: seen}, seen, nil
	}
	return t, seen, nil
}

// layerSet collects layer digests, safe for the pusher's goroutines.
type layerSet struct {
	mu     sync.Mutex
	layers []v1.Hash
}

func (s *layerSet) add(h v1.Hash) {
	s.mu.Lock()
	s.layers = append(s.layers, h)
	s.mu.Unlock()
}

func (s *layerSet) list() []v1.Hash {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]v1.Hash(nil), s.layers...)
}

// mountImage is an image whose layers are mountable from earlier pushes;
// its manifest and config are the wrapped image's, byte for byte.
type mountImage struct {
	v1.Image
	m    *mounter
	repo name.Repository
	seen *layerSet
}

// Layers implements v1.Image.
func (i mountImage) Layers() ([]v1.Layer, error) {
	layers, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(layers))
	for n, l := range layers {
		out[n] = l
		h, err := l.Digest()
		if err != nil {
			continue // a layer without a digest yet is streamed by the pusher
		}
		i.seen.add(h)
		if from, ok := i.m.from(i.repo, h); ok {
			out[n] = &remote.MountableLayer{Layer: l, Reference: from.Digest(h.String())}
		}
	}
	return out, nil
}

// mountIndex is an index whose images are mountImages; its manifest is the
// wrapped index's, byte for byte.
type mountIndex struct {
	inner v1.ImageIndex
	m     *mounter
	repo  name.Repository
	seen  *layerSet
}

// MediaType implements v1.ImageIndex.
func (x mountIndex) MediaType() (types.MediaType, error) { return x.inner.MediaType() }

// Digest implements v1.ImageIndex.
func (x mountIndex) Digest() (v1.Hash, error) { return x.inner.Digest() }

// Size implements v1.ImageIndex.
func (x mountIndex) Size() (int64, error) { return x.inner.Size() }

// IndexManifest implements v1.ImageIndex.
func (x mountIndex) IndexManifest() (*v1.IndexManifest, error) { return x.inner.IndexManifest() }

// RawManifest implements v1.ImageIndex.
func (x mountIndex) RawManifest() ([]byte, error) { return x.inner.RawManifest() }

// Image implements v1.ImageIndex.
func (x mountIndex) Image(h v1.Hash) (v1.Image, error) {
	img, err := x.inner.Image(h)
	if err != nil {
		return nil, err
	}
	return mountImage{Image: img, m: x.m, repo: x.repo, seen: x.seen}, nil
}

// ImageIndex implements v1.ImageIndex.
func (x mountIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	idx, err := x.inner.ImageIndex(h)
	if err != nil {
		return nil, err
	}
	return mountIndex{inner: idx, m: x.m, repo: x.repo, seen: x.seen}, nil
}

// Layer returns a blob the index refers to directly (an artifact), as the
// wrapped index does.
func (x mountIndex) Layer(h v1.Hash) (v1.Layer, error) {
	if withLayer, ok := x.inner.(interface {
		Layer(v1.Hash) (v1.Layer, error)
	}); ok {
		return withLayer.Layer(h)
	}
	return nil, fmt.Errorf("index child %s is neither an image nor an index", h)
}
