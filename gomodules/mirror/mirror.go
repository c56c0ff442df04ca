package mirror

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imageops/cloud/gomodules/imageref"
)

// Job is one image to copy: from Source to Target. Target's tag is set at
// the target; a Target without tag is tagged "sha256-<hex>".
type Job struct {
	// Source is where the image is read; when it has a digest, that digest is
	// what is copied (and verified), whatever its tag points at.
	Source imageref.Reference
	// Target is where the image is written. A Target with a digest and no
	// tag is written under the tag imageref.DigestTag, so that garbage
	// collection of untagged manifests keeps it.
	Target imageref.Reference
	// Names are the user's names for this image (dict keys), for the report.
	Names []string
}

// Result is what happened to one distinct image. It marshals to the
// module's {source, target, digest} entries.
type Result struct {
	// Source and Target are the full references ("registry/repo:tag@digest").
	Source string `json:"source"`
	Target string `json:"target"`
	// Digest is the manifest or index digest the target has (or would have,
	// or should have had), "sha256:..."; "" when it could not be read.
	Digest string `json:"digest"`
	// Names are the names that point at this image, sorted; absent when none.
	Names []string `json:"names,omitempty"`
	// Reason classifies a failure (see Reason); absent on success.
	Reason Reason `json:"reason,omitempty"`
	// Msg says what failed and why; absent on success.
	Msg string `json:"msg,omitempty"`
	// Seconds is the time spent on this image: the digest checks, and the
	// copy and its verification when it was copied (not the wait for a
	// free copy slot).
	Seconds float64 `json:"seconds"`

	previous string        // the target's digest before the copy, "" when absent
	waited   time.Duration // how long the copy waited for a slot (not in Seconds)
}

// Report lists every distinct image once, in one of three lists, each
// sorted by source then target. Lists are never nil. The JSON names end in
// "_images" because Ansible reads a result's "skipped" and "failed" as the
// task's own status.
type Report struct {
	// Copied are the images written (in dry-run mode: that would be written).
	Copied []Result `json:"copied_images"`
	// Skipped are the images whose target already had the same digest.
	Skipped []Result `json:"skipped_images"`
	// Failed are the images that could not be copied, with Reason and Msg.
	Failed []Result `json:"failed_images"`
	// Stats says where the run's time went.
	Stats Stats `json:"stats"`
}

// Stats says where a run's time went.
type Stats struct {
	// Seconds is the run's wall time.
	Seconds float64 `json:"seconds"`
	// Requests counts the HTTP requests sent to registries and their token
	// services, by kind (the Request* constants); the version checks that
	// were answered from this run's earlier ones are not counted.
	Requests map[string]int `json:"requests"`
	// RequestSeconds is the time the requests of each kind took, added up
	// (from sending to the end of the response's body; several run at once,
	// so the sum exceeds the wall time).
	RequestSeconds map[string]float64 `json:"request_seconds"`
	// Connections is how many connections the requests opened; the others
	// reused one (HTTP keep-alive, or HTTP/2's streams).
	Connections int `json:"connections"`
	// Protocols counts the responses by protocol ("HTTP/1.1", "HTTP/2.0"):
	// HTTP/2 is used wherever a registry offers it over TLS.
	Protocols map[string]int `json:"protocols"`
	// Jobs is how many images were copied at once.
	Jobs int `json:"jobs"`
}

// Changed tells whether anything was (or, in dry-run mode, would be) written.
func (r *Report) Changed() bool { return len(r.Copied) > 0 }

type outcome int

const (
	copied outcome = iota
	skipped
	failed
)

// Mirror copies every distinct job (same source and target) once, WithJobs
// at a time, and reports each. Only a bad option or a cancelled context is
// an error; a failing image is listed in Report.Failed and the others go on.
func Mirror(ctx context.Context, jobs []Job, opts ...Option) (*Report, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	c, err := newCopier(o)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	unique := Dedupe(jobs)
	results := make([]Result, len(unique))
	outcomes := make([]outcome, len(unique))
	forEach(ctx, len(unique), o.jobs*checksPerJob, func(i int) {
		start := time.Now()
		results[i], outcomes[i] = c.copy(ctx, unique[i])
		results[i].Seconds = seconds(time.Since(start) - results[i].waited)
	})
	report := &Report{Copied: []Result{}, Skipped: []Result{}, Failed: []Result{},
		Stats: c.stats.stats(seconds(time.Since(started)), o.jobs)}
	for i, r := range results {
		switch outcomes[i] {
		case copied:
			report.Copied = append(report.Copied, r)
		case skipped:
			report.Skipped = append(report.Skipped, r)
		default:
			report.Failed = append(report.Failed, r)
		}
	}
	if err := ctx.Err(); err != nil {
		return report, fmt.Errorf("mirroring images: %w", err)
	}
	return report, nil
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// Dedupe merges jobs with the same source and target (their Names are
// joined), keeping the first one's position; the result is sorted by source
// then target.
func Dedupe(jobs []Job) []Job {
	index := map[string]int{}
	var out []Job
	for _, j := range jobs {
		key := j.Source.String() + " -> " + j.Target.String()
		if i, ok := index[key]; ok {
			out[i].Names = append(out[i].Names, j.Names...)
			continue
		}
		index[key] = len(out)
		j.Names = append([]string(nil), j.Names...)
		out = append(out, j)
	}
	for i := range out {
		sort.Strings(out[i].Names)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if sa, sb := out[a].Source.String(), out[b].Source.String(); sa != sb {
			return sa < sb
		}
		return out[a].Target.String() < out[b].Target.String()
	})
	return out
}

// forEach calls fn(0..n-1) on at most jobs goroutines; it stops handing out
// work once ctx is done.
func forEach(ctx context.Context, n, jobs int, fn func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs && w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case work <- i:
		case <-ctx.Done():
			// Unstarted items still get a result: fn sees the cancelled context.
			for ; i < n; i++ {
				fn(i)
			}
		}
	}
	close(work)
	wg.Wait()
}

// copier holds what the jobs of one run share: the puller and pusher (and
// so their connections and tokens), where each blob went, and the counts.
type copier struct {
	o      *options
	puller *remote.Puller
	pusher *remote.Pusher
	writes *blobWriters
	blobs  *blobs
	stats  *requestStats
	copies chan struct{} // a slot per image being copied: WithJobs of them
}

func newCopier(o *options) (*copier, error) {
	stats := newRequestStats()
	base := o.httpTransport(stats)
	ro := o.remoteOptions(base)
	puller, err := remote.NewPuller(ro...)
	if err != nil {
		return nil, fmt.Errorf("setting up the registry client: %w", err)
	}
	pusher, err := remote.NewPusher(ro...)
	if err != nil {
		return nil, fmt.Errorf("setting up the registry client: %w", err)
	}
	retry := o.registry.Retry()
	writes := newBlobWriters(base, o.registry.Keychain(), o.registry.UserAgent(), retryPolicy{
		Duration: retry.Duration, Factor: retry.Factor, Jitter: retry.Jitter, Steps: retry.Steps})
	return &copier{o: o, puller: puller, pusher: pusher, writes: writes, blobs: newBlobs(), stats: stats,
		copies: make(chan struct{}, o.jobs)}, nil
}

// copy runs one job: see the package doc for the steps.
func (c *copier) copy(ctx context.Context, job Job) (Result, outcome) {
	res := Result{Source: job.Source.String(), Target: job.Target.String(), Names: job.Names}
	fail := func(doing string, err error) (Result, outcome) {
		res.Reason = reasonIn(ctx, err)
		res.Msg = fmt.Sprintf("%s: %v", doing, err)
		return res, failed
	}
	if err := ctx.Err(); err != nil {
		return fail("copying "+res.Source, err)
	}
	src, err := job.Source.GGCR(c.o.nameOptions(job.Source.Registry)...)
	if err != nil {
		return fail("parsing "+res.Source, err)
	}
	dst, err := targetRef(job.Target, c.o.nameOptions(job.Target.Registry))
	if err != nil {
		return fail("parsing "+res.Target, err)
	}

	// The source's digest and the target's, asked at the same time: one
	// round trip per image when nothing is to be copied.
	var head *v1.Descriptor
	var headErr error
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		head, headErr = c.puller.Head(ctx, dst)
	}()
	want, taggable, err := c.desired(ctx, job, src)
	<-checked
	if err != nil {
		return fail("reading "+res.Source, err)
	}
	res.Digest = want.String()
	switch {
	case headErr == nil && head.Digest == want:
		return res, skipped
	case headErr != nil && !isNotFound(headErr):
		return fail("checking "+res.Target, headErr)
	case headErr == nil:
		res.previous = head.Digest.String()
	}
	if c.o.dryRun {
		return res, copied
	}
	waiting := time.Now()
	select {
	case c.copies <- struct{}{}:
		defer func() { <-c.copies }()
	case <-ctx.Done():
		return fail("copying "+res.Source, ctx.Err())
	}
	res.waited = time.Since(waiting)

	if taggable == nil {
		desc, err := c.puller.Get(ctx, src)
		if err != nil {
			return fail("reading "+res.Source, err)
		}
		// The tag may have moved since the HEAD: copy what it points at now.
		want, taggable = desc.Digest, desc
		res.Digest = want.String()
	}
	if err := c.push(ctx, dst, taggable, res.previous != ""); err != nil {
		return fail(fmt.Sprintf("copying %s to %s", res.Source, res.Target), err)
	}
	head, err = c.puller.Head(ctx, dst)
	if err != nil {
		return fail("verifying "+res.Target, err)
	}
	if head.Digest != want {
		return fail("verifying "+res.Target, fmt.Errorf("%w: %s has %s, expected %s", ErrDigestMismatch, res.Target, head.Digest, want))
	}
	return res, copied
}

// desired returns the digest the target must have and, when it had to fetch
// the source to know it, what to push.
func (c *copier) desired(ctx context.Context, job Job, src name.Reference) (v1.Hash, remote.Taggable, error) {
	if len(c.o.platforms) == 0 {
		if job.Source.Digest != "" {
			h, err := v1.NewHash(job.Source.Digest)
			return h, nil, err
		}
		desc, err := c.puller.Head(ctx, src)
		if err != nil {
			return v1.Hash{}, nil, err
		}
		return desc.Digest, nil, nil
	}
	desc, err := c.puller.Get(ctx, src)
	if err != nil {
		return v1.Hash{}, nil, err
	}
	if !desc.MediaType.IsIndex() {
		return desc.Digest, desc, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return v1.Hash{}, nil, err
	}
	filtered, err := c.filter(idx)
	if err != nil {
		return v1.Hash{}, nil, err
	}
	digest, err := filtered.Digest()
	if err != nil {
		return v1.Hash{}, nil, err
	}
	if job.Source.Digest != "" && digest != desc.Digest {
		return v1.Hash{}, nil, fmt.Errorf("%w: %s is pinned to the index %s; keeping only the platforms %s gives the index %s, which the pinned reference cannot name; mirror every platform, or drop the digest from the reference",
			ErrPinnedIndex, job.Source, desc.Digest, c.platformList(), digest)
	}
	return digest, filtered, nil
}

// platformList is the requested platforms, as "[linux/amd64 linux/arm64]".
func (c *copier) platformList() string {
	names := make([]string, len(c.o.platforms))
	for i, p := range c.o.platforms {
		names[i] = p.String()
	}
	return fmt.Sprint(names)
}

// filter removes from idx the manifests of platforms not asked for.
func (c *copier) filter(idx v1.ImageIndex) (v1.ImageIndex, error) {
	manifest, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	keep := func(d v1.Descriptor) bool {
		if d.Platform == nil {
			return false
		}
		for _, p := range c.o.platforms {
			if d.Platform.Satisfies(p) {
				return true
			}
		}
		return false
	}
	kept := 0
	for _, d := range manifest.Manifests {
		if keep(d) {
			kept++
		}
	}
	if kept == 0 {
		var have []string
		for _, d := range manifest.Manifests {
			if d.Platform != nil {
				have = append(have, d.Platform.String())
			}
		}
		return nil, fmt.Errorf("%w (it has %v)", ErrNoPlatform, have)
	}
	if kept == len(manifest.Manifests) {
		return idx, nil
	}
	return mutate.RemoveManifests(idx, func(d v1.Descriptor) bool { return !keep(d) }), nil
}

// targetRef is the reference written: the tag when there is one, else the
// digest's own tag (imageref.DigestTag), because a manifest that no tag
// names is deleted by a registry's garbage collection of untagged manifests.
func targetRef(r imageref.Reference, opts []name.Option) (name.Reference, error) {
	if r.Tag == "" && r.Digest != "" {
		r.Tag = imageref.DigestTag(r.Digest)
	}
	return r.TagRef(opts...)
}
