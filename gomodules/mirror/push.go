package mirror

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// layerJobs is how many blobs of one image (all of an index's images
// together) are transferred at once, as go-containerregistry and crane do.
const layerJobs = 4

// push writes t, read from the source, to dst: the blobs of every image
// first (each mounted from another repository of the registry when this run
// put it there), then each image's manifest by digest, then t's manifest at
// dst, byte for byte. replacing tells that dst had another image (its
// blobs are then asked for with a HEAD, see blobWriters). Manifests are put without the existence check that
// remote.Push makes, since the caller found dst missing or different;
// manifests other than images and indexes (schema 1, artifacts listed in an
// index) go through remote.Push.
func (c *copier) push(ctx context.Context, dst name.Reference, t remote.Taggable, replacing bool) error {
	switch v := t.(type) {
	case *remote.Descriptor:
		switch {
		case v.MediaType.IsIndex():
			idx, err := v.ImageIndex()
			if err != nil {
				return err
			}
			return c.pushIndex(ctx, dst, idx, replacing)
		case v.MediaType.IsImage():
			img, err := v.Image()
			if err != nil {
				return err
			}
			return c.pushImage(ctx, dst, img, replacing)
		}
	case v1.ImageIndex:
		return c.pushIndex(ctx, dst, v, replacing)
	case v1.Image:
		return c.pushImage(ctx, dst, v, replacing)
	}
	return c.pusher.Push(ctx, dst, t)
}

func (c *copier) pushImage(ctx context.Context, dst name.Reference, img v1.Image, replacing bool) error {
	blobs, err := imageBlobs(img)
	if err != nil {
		return err
	}
	if err := c.uploadAll(ctx, dst.Context(), blobs, replacing); err != nil {
		return err
	}
	return c.pusher.Put(ctx, dst, img)
}

func (c *copier) pushIndex(ctx context.Context, dst name.Reference, idx v1.ImageIndex, replacing bool) error {
	manifest, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	repo := dst.Context()
	images := map[v1.Hash]v1.Image{}
	var blobs []v1.Layer
	for _, d := range manifest.Manifests {
		switch {
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return err
			}
			more, err := imageBlobs(img)
			if err != nil {
				return err
			}
			images[d.Digest], blobs = img, append(blobs, more...)
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			if err := c.pushIndex(ctx, repo.Digest(d.Digest.String()), child, replacing); err != nil {
				return err
			}
		default:
			return c.pusher.Push(ctx, dst, idx)
		}
	}
	if err := c.uploadAll(ctx, repo, blobs, replacing); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(layerJobs)
	for digest, img := range images {
		g.Go(func() error { return c.pusher.Put(gctx, repo.Digest(digest.String()), img) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return c.pusher.Put(ctx, dst, idx)
}

// imageBlobs is img's layers (those that may be distributed) and config.
func imageBlobs(img v1.Image) ([]v1.Layer, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, 0, len(layers)+1)
	for _, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		if mt.IsDistributable() {
			out = append(out, l)
		}
	}
	config, err := partial.ConfigLayer(img)
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	return append(out, config), nil
}

// uploadAll writes each distinct blob to repo, layerJobs at a time;
// replacing tells that the image replaces another at its tag (see upload).
func (c *copier) uploadAll(ctx context.Context, repo name.Repository, layers []v1.Layer, replacing bool) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(layerJobs)
	seen := map[v1.Hash]bool{}
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return err
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		g.Go(func() error { return c.upload(gctx, repo, l, h, replacing) })
	}
	return g.Wait()
}

// upload writes blob h to repo: nothing when this run put it there already,
// mounted from the repository of the same registry that got it earlier in
// this run, else uploaded unless repo has it (see blobWriters): asked with a
// HEAD when the image is replacing another at its tag, with a mount offer
// from repo itself otherwise.
func (c *copier) upload(ctx context.Context, repo name.Repository, l v1.Layer, h v1.Hash, replacing bool) error {
	from, finish, err := c.blobs.claim(ctx, repo, h)
	if err != nil {
		return err
	}
	if from != nil && from.Name() == repo.Name() {
		return nil
	}
	err = c.writes.writer(repo).write(ctx, l, h, from, replacing)
	finish(err)
	return err
}
