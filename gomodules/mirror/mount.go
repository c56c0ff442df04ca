package mirror

import (
	"context"
	"errors"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// blobs remembers, for one Mirror run, which target repository holds each
// blob, so that every other repository of the same registry mounts the blob
// (one request, no bytes) instead of uploading it again. Images of one
// deployment share their base layers: Atmosphere's OpenStack images all
// carry the same runtime layers. A blob being uploaded is waited for, then
// mounted, so that images copied at the same time do not upload it twice;
// a blob being written into a repository (uploaded or mounted) by another
// tag's copy is only waited for, so that it is written there once: no two
// requests for it, and no two writes of its link at once in the registry.
// A registry that refuses the mount answers with an upload session, and the
// blob is uploaded as usual.
type blobs struct {
	mu    sync.Mutex
	where map[string]*blobCopy // registry + "@" + digest -> its first copy to the registry in this run
	here  map[string]*blobCopy // repository + "@" + digest -> its write there in this run
}

// blobCopy is one write of a blob into a repository in this run.
type blobCopy struct {
	repo name.Repository
	done chan struct{} // closed when the write ended
	ok   bool          // it succeeded: repo holds the blob
}

func newBlobs() *blobs {
	return &blobs{where: map[string]*blobCopy{}, here: map[string]*blobCopy{}}
}

// claim tells how to put blob h in repo. When repo holds it, or another
// image's copy is writing it there (claim waits for that write), from is
// repo itself: nothing to do. Otherwise the caller writes it and calls
// finish with the result: with from nil when repo is the first repository
// of the registry to need it in this run (an upload), else with from the
// repository that got it first (a mount, claim having waited for its
// upload to end).
func (b *blobs) claim(ctx context.Context, repo name.Repository, h v1.Hash) (from *name.Repository, finish func(error), err error) {
	key := repo.RegistryStr() + "@" + h.String()
	mine := repo.Name() + "@" + h.String()
	for {
		b.mu.Lock()
		if writing, ok := b.here[mine]; ok {
			b.mu.Unlock()
			if err := wait(ctx, writing); err != nil {
				return nil, nil, err
			}
			if writing.ok {
				return &repo, func(error) {}, nil
			}
			continue // that write failed and was forgotten: write it ourselves
		}
		write := &blobCopy{repo: repo, done: make(chan struct{})}
		b.here[mine] = write
		first, known := b.where[key]
		if !known {
			b.where[key] = write
			b.mu.Unlock()
			return nil, func(err error) { b.finish(write, err, mine, key) }, nil
		}
		b.mu.Unlock()
		err := wait(ctx, first)
		if err == nil && first.ok {
			return &first.repo, func(err error) { b.finish(write, err, mine) }, nil
		}
		// Cancelled, or that upload failed and was forgotten: this write ends
		// here, and the blob is claimed again (another may be first now).
		b.finish(write, errors.New("not written"), mine)
		if err != nil {
			return nil, nil, err
		}
	}
}

// wait returns when c's write ended, or ctx's error when ctx ended first.
func wait(ctx context.Context, c *blobCopy) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish ends write c with err; a failed write is forgotten under keys, so
// that the next claim writes the blob again.
func (b *blobs) finish(c *blobCopy, err error, keys ...string) {
	b.mu.Lock()
	c.ok = err == nil
	if !c.ok {
		for _, k := range keys {
			if b.here[k] == c {
				delete(b.here, k)
			}
			if b.where[k] == c {
				delete(b.where, k)
			}
		}
	}
	b.mu.Unlock()
	close(c.done)
}
