package registryaccess

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imageops/cloud/gomodules/imageref"
)

// resolvesAtOnce is how many HEAD requests Resolve has in flight: they are
// small, and a manifest of many images is as fast as they are.
const resolvesAtOnce = 32

// Resolve returns the digest ("sha256:...") each reference points at now,
// keyed by the reference's String(). Pinned references are returned without
// a request; the others cost one HEAD each, 32 at a time. Every failure is
// reported (errors.Join), each naming its reference and its Reason; the
// digests found are returned too.
func Resolve(ctx context.Context, refs []imageref.Reference, opts ...Option) (map[string]string, error) {
	c, err := New(opts...)
	if err != nil {
		return nil, err
	}
	puller, err := remote.NewPuller(c.RemoteOptions(FailFast(c.Transport()))...)
	if err != nil {
		return nil, fmt.Errorf("setting up the registry client: %w", err)
	}
	digests := make([]string, len(refs))
	errs := make([]error, len(refs))
	slots := make(chan struct{}, resolvesAtOnce)
	var wg sync.WaitGroup
	for i, r := range refs {
		if r.Digest != "" {
			digests[i] = r.Digest
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			digests[i], errs[i] = c.head(ctx, puller, r)
		}()
	}
	wg.Wait()
	out := make(map[string]string, len(refs))
	for i, r := range refs {
		if errs[i] == nil {
			out[r.String()] = digests[i]
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	return out, nil
}

// head is the digest r's tag points at.
func (c *Client) head(ctx context.Context, puller *remote.Puller, r imageref.Reference) (string, error) {
	ref, err := r.GGCR(c.NameOptions(r.Registry)...)
	if err == nil {
		desc, headErr := puller.Head(ctx, ref)
		if headErr == nil {
			return desc.Digest.String(), nil
		}
		err = headErr
	}
	return "", fmt.Errorf("resolving the digest of %s (%s): %w", r, ReasonIn(ctx, err), err)
}
