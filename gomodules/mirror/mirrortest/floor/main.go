// Command floor measures the physical floor of a first mirroring run, for
// the benchmark: what the registries themselves cost to hand out, then take
// in, exactly the bytes a mirror of the given pairs must move, with nothing
// else: no existence checks, no version checks, no verification.
//
//	floor -pairs pairs.json -jobs 8 -layer-jobs 4
//
// pairs.json is {"pairs": [{"source": REF, "target": REF}, ...]} (plain
// HTTP registries, no auth, as the benchmark starts them); duplicate pairs
// count once. In two timed phases, with mirror_images' parallelism (jobs
// images at once, layer-jobs blobs of each; jobs×layer-jobs reads at once):
//
//   - pull: every distinct source manifest (and every manifest of an index)
//     GET once, every distinct blob GET once, kept in memory;
//   - push: every distinct blob put once per target registry (a POST and one
//     monolithic PUT) into the first repository that needs it, mounted (one
//     POST ?mount=&from=) into every other repository that needs it, then
//     every manifest PUT, an index's children before it.
//
// It prints one JSON object: {"pull_seconds", "push_seconds",
// "pull_requests", "push_requests", "images"}. The target registries must be
// empty of these images (a mount answered 202 is an error: the blob was not
// where this command put it).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

const (
	defaultJobs      = 8 // mirror_images' default jobs
	defaultLayerJobs = 4 // its blobs per image at once
)

// acceptManifests is every manifest type a mirror copies.
var acceptManifests = strings.Join([]string{string(types.OCIImageIndex), string(types.OCIManifestSchema1),
	string(types.DockerManifestList), string(types.DockerManifestSchema2)}, ", ")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// pair is one name's copy.
type pair struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// manifest is one manifest read from the source: its bytes, type and the
// manifests it lists (an index's children, pushed before it).
type manifest struct {
	digest    v1.Hash
	mediaType types.MediaType
	raw       []byte
	children  []*manifest
	blobs     []v1.Hash
}

// floor holds one measurement's state: the client, the request count, the
// bytes read.
type floor struct {
	client    *http.Client
	requests  atomic.Int64
	jobs      int // images at once
	layerJobs int // blobs of one image at once

	mu    sync.Mutex
	blobs map[string][]byte // source registry + "@" + digest -> bytes
}

func run() error {
	pairsFile := flag.String("pairs", "", `JSON file {"pairs": [{"source", "target"}]} (required)`)
	jobs := flag.Int("jobs", defaultJobs, "images at once")
	layerJobs := flag.Int("layer-jobs", defaultLayerJobs, "blobs of one image at once")
	flag.Parse()
	if *pairsFile == "" || *jobs < 1 || *layerJobs < 1 {
		return errors.New("-pairs is required; -jobs and -layer-jobs must be at least 1")
	}
	var in struct {
		Pairs []pair `json:"pairs"`
	}
	data, err := os.ReadFile(*pairsFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("reading %s: %w", *pairsFile, err)
	}
	pairs := distinct(in.Pairs)
	f := &floor{client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		jobs: *jobs, layerJobs: *layerJobs, blobs: map[string][]byte{}}
	ctx := context.Background()

	start := time.Now()
	read, err := f.pull(ctx, pairs)
	if err != nil {
		return err
	}
	pullSeconds, pullRequests := time.Since(start).Seconds(), f.requests.Swap(0)

	start = time.Now()
	if err := f.push(ctx, pairs, read); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"pull_seconds": round(pullSeconds), "push_seconds": round(time.Since(start).Seconds()),
		"pull_requests": pullRequests, "push_requests": f.requests.Load(), "images": len(pairs)})
}

func round(s float64) float64 { return float64(int(s*1000+0.5)) / 1000 }

func distinct(pairs []pair) []pair {
	seen := map[pair]bool{}
	var out []pair
	for _, p := range pairs {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// pull reads every distinct source manifest and blob once; it returns each
// pair's top manifest, in the pairs' order.
func (f *floor) pull(ctx context.Context, pairs []pair) ([]*manifest, error) {
	read := make([]*manifest, len(pairs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.jobs * f.layerJobs)
	for i, p := range pairs {
		g.Go(func() error {
			ref, err := name.ParseReference(p.Source, name.Insecure)
			if err != nil {
				return err
			}
			m, err := f.getManifest(gctx, ref.Context(), ref.Identifier())
			if err != nil {
				return fmt.Errorf("reading %s: %w", p.Source, err)
			}
			read[i] = m
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Every distinct blob, once per source registry.
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(f.jobs * f.layerJobs)
	for i, p := range pairs {
		ref, _ := name.ParseReference(p.Source, name.Insecure)
		for _, h := range allBlobs(read[i]) {
			key := ref.Context().RegistryStr() + "@" + h.String()
			f.mu.Lock()
			_, have := f.blobs[key]
			if !have {
				f.blobs[key] = nil
			}
			f.mu.Unlock()
			if have {
				continue
			}
			g.Go(func() error {
				body, err := f.do(gctx, http.MethodGet, blobURL(ref.Context(), h), nil, "", http.StatusOK)
				f.mu.Lock()
				f.blobs[key] = body
				f.mu.Unlock()
				return err
			})
		}
	}
	return read, g.Wait()
}

// getManifest GETs ref's manifest by id (tag or digest), and its children.
func (f *floor) getManifest(ctx context.Context, repo name.Repository, id string) (*manifest, error) {
	u := fmt.Sprintf("%s://%s/v2/%s/manifests/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptManifests)
	f.requests.Add(1)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	digest, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m := &manifest{digest: digest, mediaType: types.MediaType(resp.Header.Get("Content-Type")), raw: raw}
	if m.mediaType.IsIndex() {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		for _, d := range idx.Manifests {
			child, err := f.getManifest(ctx, repo, d.Digest.String())
			if err != nil {
				return nil, err
			}
			m.children = append(m.children, child)
		}
		return m, nil
	}
	img, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m.blobs = append(m.blobs, img.Config.Digest)
	for _, l := range img.Layers {
		m.blobs = append(m.blobs, l.Digest)
	}
	return m, nil
}

// allBlobs is m's blobs and its children's.
func allBlobs(m *manifest) []v1.Hash {
	out := append([]v1.Hash(nil), m.blobs...)
	for _, c := range m.children {
		out = append(out, allBlobs(c)...)
	}
	return out
}

// push writes every pair's blobs and manifests to its target, with the
// fewest requests there are: jobs images at once, layerJobs blobs of each.
// An image starts the uploads it is the first to need before it waits for
// the blobs that another image is writing, so no two wait on each other.
func (f *floor) push(ctx context.Context, pairs []pair, read []*manifest) error {
	type placed struct {
		repo name.Repository
		done chan struct{} // closed when the write ended
	}
	first := map[string]*placed{} // target registry + "@" + digest -> the repository it is uploaded to
	here := map[string]*placed{}  // target repository + "@" + digest -> its first write there
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.jobs)
	for i, p := range pairs {
		dst, err := name.NewTag(p.Target, name.Insecure)
		if err != nil {
			return err
		}
		src, _ := name.ParseReference(p.Source, name.Insecure)
		repo := dst.Context()
		// What this image writes: the blobs it is the first to need in the
		// registry (uploads), those another repository got first (mounts,
		// after that upload), those another image of its repository writes
		// (only waited for: two writes of one link at once race in the
		// registry's storage).
		var owned, mounted, waited []v1.Hash
		from, mine := map[v1.Hash]*placed{}, map[v1.Hash]*placed{}
		seen := map[v1.Hash]bool{}
		mu.Lock()
		for _, h := range allBlobs(read[i]) {
			if seen[h] {
				continue
			}
			seen[h] = true
			if at, ok := here[repo.Name()+"@"+h.String()]; ok {
				waited, from[h] = append(waited, h), at
				continue
			}
			write := &placed{repo: repo, done: make(chan struct{})}
			here[repo.Name()+"@"+h.String()], mine[h] = write, write
			if at, ok := first[repo.RegistryStr()+"@"+h.String()]; ok {
				mounted, from[h] = append(mounted, h), at
				continue
			}
			first[repo.RegistryStr()+"@"+h.String()] = write
			owned = append(owned, h)
		}
		mu.Unlock()
		g.Go(func() error {
			blobs, bctx := errgroup.WithContext(gctx)
			blobs.SetLimit(f.layerJobs)
			wait := func(h v1.Hash) error {
				select {
				case <-from[h].done:
					return nil
				case <-bctx.Done():
					return bctx.Err()
				}
			}
			for _, h := range owned {
				body := f.blob(src.Context().RegistryStr(), h)
				blobs.Go(func() error {
					defer close(mine[h].done)
					return f.upload(bctx, repo, h, body)
				})
			}
			for _, h := range mounted {
				blobs.Go(func() error {
					defer close(mine[h].done)
					if err := wait(h); err != nil {
						return err
					}
					_, err := f.do(bctx, http.MethodPost, uploadURL(repo, url.Values{"mount": {h.String()}, "from": {from[h].repo.RepositoryStr()}}), nil, "", http.StatusCreated)
					return err
				})
			}
			for _, h := range waited {
				blobs.Go(func() error { return wait(h) })
			}
			if err := blobs.Wait(); err != nil {
				return fmt.Errorf("pushing the blobs of %s: %w", p.Target, err)
			}
			return f.putManifests(gctx, repo, read[i], dst.TagStr())
		})
	}
	return g.Wait()
}

// blob is the bytes of blob h read from registry.
func (f *floor) blob(registry string, h v1.Hash) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blobs[registry+"@"+h.String()]
}

// upload puts body as blob h in repo: a POST, then one PUT ?digest=.
func (f *floor) upload(ctx context.Context, repo name.Repository, h v1.Hash, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uploadURL(repo, nil), nil)
	if err != nil {
		return err
	}
	f.requests.Add(1)
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("starting an upload to %s: %s", repo, resp.Status)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", h.String())
	loc.RawQuery = q.Encode()
	_, err = f.do(ctx, http.MethodPut, loc.String(), body, "application/octet-stream", http.StatusCreated)
	return err
}

// putManifests PUTs m's children by digest, then m under ref.
func (f *floor) putManifests(ctx context.Context, repo name.Repository, m *manifest, ref string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.layerJobs)
	for _, c := range m.children {
		g.Go(func() error { return f.putManifests(gctx, repo, c, c.digest.String()) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	u := fmt.Sprintf("%s://%s/v2/%s/manifests/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), ref)
	_, err := f.do(ctx, http.MethodPut, u, m.raw, string(m.mediaType), http.StatusCreated)
	return err
}

func blobURL(repo name.Repository, h v1.Hash) string {
	return fmt.Sprintf("%s://%s/v2/%s/blobs/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), h)
}

func uploadURL(repo name.Repository, query url.Values) string {
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/uploads/", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr())
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// do sends one request with body (of contentType) and returns the response's
// body; any status but want is an error.
func (f *floor) do(ctx context.Context, method, u string, body []byte, contentType string, want int) ([]byte, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, reader)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	f.requests.Add(1)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s (expected %d)", method, u, resp.Status, want)
	}
	return out, nil
}
