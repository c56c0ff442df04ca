package mirror

import (
	"context"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// blobs remembers, for one Mirror run, which target repository holds each
// blob, so that every other repository of the same registry mounts the blob
// (one request, no bytes) instead of uploading it again. Images of one
// deployment share their base layers: Atmosphere's OpenStack images all
// carry the same runtime layers. A blob being uploaded is waited for, then
// mounted, so that images copied at the same time do not upload it twice.
// A registry that refuses the mount answers with an upload session, and the
// blob is uploaded as usual.
type blobs struct {
	mu    sync.Mutex
	where map[string]*blobCopy // registry + "@" + digest -> its first copy in this run
	have  map[string]bool      // repository + "@" + digest -> this run wrote it there
}

// blobCopy is one blob's first upload to a registry in this run.
type blobCopy struct {
	repo name.Repository
	done chan struct{} // closed when the upload ended
	ok   bool          // it succeeded: repo holds the blob
}

func newBlobs() *blobs { return &blobs{where: map[string]*blobCopy{}, have: map[string]bool{}} }

// claim returns where to mount blob h from for repo: a repository of the
// same registry that holds it, repo itself when it holds it (after waiting
// for an upload in flight), or nil with a finish func when repo is the
// first to need it and must upload it, then call finish with the result.
func (b *blobs) claim(ctx context.Context, repo name.Repository, h v1.Hash) (from *name.Repository, finish func(error), err error) {
	key := repo.RegistryStr() + "@" + h.String()
	mine := repo.Name() + "@" + h.String()
	for {
		b.mu.Lock()
		if b.have[mine] {
			b.mu.Unlock()
			return &repo, func(error) {}, nil // mounted or uploaded here already, by an image of another tag
		}
		first, known := b.where[key]
		if !known {
			copying := &blobCopy{repo: repo, done: make(chan struct{})}
			b.where[key] = copying
			b.mu.Unlock()
			return nil, func(err error) { b.finish(key, copying, err) }, nil
		}
		b.mu.Unlock()
		select {
		case <-first.done:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		if first.ok {
			if first.repo.Name() == repo.Name() {
				return &repo, func(error) {}, nil
			}
			return &first.repo, func(err error) { b.wrote(mine, err) }, nil
		}
		// That upload failed and was forgotten: try to be the first again.
	}
}

// wrote records that the blob of key mine (repository@digest) is there,
// when err is nil.
func (b *blobs) wrote(mine string, err error) {
	if err == nil {
		b.mu.Lock()
		b.have[mine] = true
		b.mu.Unlock()
	}
}

func (b *blobs) finish(key string, c *blobCopy, err error) {
	b.mu.Lock()
	c.ok = err == nil
	if !c.ok {
		delete(b.where, key)
	}
	b.mu.Unlock()
	close(c.done)
}
