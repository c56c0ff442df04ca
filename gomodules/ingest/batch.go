package ingest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	json "github.com/goccy/go-json"

	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// BatchOptions are the community_image_batch options: every image of Images
// takes DiskFormat, Visibility, UpdateExistingVisibility, Workdir and
// MaxVirtualSize unless its spec sets them, and Properties under its own properties.
type BatchOptions struct {
	conn.Config
	Images                   map[string]map[string]any `json:"images"`
	Properties               any                       `json:"properties"`
	DiskFormat               string                    `json:"disk_format"`
	Visibility               string                    `json:"visibility"`
	UpdateExistingVisibility *bool                     `json:"update_existing_visibility"`
	Workdir                  string                    `json:"workdir"`
	Jobs                     int                       `json:"jobs"`
	MaxVirtualSize           int64                     `json:"max_virtual_size"`
	// Owner is the project (name or ID) whose images these are, when not
	// the credentials' own.
	Owner string `json:"owner"`
	// InsecureSkipGlanceVerify and UseExistingTrustedCommunityImages are
	// every image's unless its spec sets them (azimuth-ops' role variables).
	InsecureSkipGlanceVerify          *bool `json:"insecure_skip_glance_verify"`
	UseExistingTrustedCommunityImages *bool `json:"use_existing_trusted_community_images"`
}

// BatchResult is what EnsureAll did, by image key.
type BatchResult struct {
	Changed bool `json:"changed"`
	// ImageIDs maps each key to its Glance image ID (community_images_image_ids).
	ImageIDs map[string]string `json:"image_ids"`
	// Images maps each key to its community_image result.
	Images map[string]Result `json:"images"`
	// Failed maps each key that failed to its error message.
	Failed map[string]string `json:"failed_images,omitempty"`
	// Diff gathers the images' diffs under their keys.
	Diff *Diff `json:"diff,omitempty"`
}

// BatchError fails the module after every image was tried; its fields keep
// what succeeded.
type BatchError struct {
	Result BatchResult
}

func (e *BatchError) Error() string {
	keys := sortedKeys(e.Result.Failed)
	lines := make([]string, len(keys))
	for i, key := range keys {
		lines[i] = fmt.Sprintf("%s: %s", key, e.Result.Failed[key])
	}
	return fmt.Sprintf("%d of %d images failed: %s", len(keys), len(e.Result.Images)+len(keys), strings.Join(lines, "; "))
}

// Fields returns the partial result for the failed module's output.
func (e *BatchError) Fields() map[string]any {
	return map[string]any{"image_ids": e.Result.ImageIDs, "images": e.Result.Images,
		"failed_images": e.Result.Failed, "changed": e.Result.Changed}
}

// Specs validates every image of the batch, with the batch's defaults filled
// in, before anything is downloaded. Errors name the image's key.
func (b BatchOptions) Specs() (map[string]Options, error) {
	out := make(map[string]Options, len(b.Images))
	var problems []string
	for _, key := range sortedKeys(b.Images) {
		opts, err := b.spec(key)
		if err != nil {
			problems = append(problems, fmt.Sprintf("images.%s: %v", key, err))
			continue
		}
		out[key] = opts
	}
	problems = append(problems, disagreements(out)...)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

func (b BatchOptions) spec(key string) (Options, error) {
	raw := map[string]any{}
	for name, value := range map[string]any{"disk_format": b.DiskFormat, "visibility": b.Visibility, "workdir": b.Workdir} {
		if value != "" {
			raw[name] = value
		}
	}
	for name, value := range map[string]*bool{"update_existing_visibility": b.UpdateExistingVisibility,
		"insecure_skip_glance_verify": b.InsecureSkipGlanceVerify, "use_existing_trusted_community_images": b.UseExistingTrustedCommunityImages} {
		if value != nil {
			raw[name] = *value
		}
	}
	if b.MaxVirtualSize != 0 {
		raw["max_virtual_size"] = b.MaxVirtualSize
	}
	for name, value := range b.Images[key] {
		raw[name] = value
	}
	props, err := mergeProperties(b.Properties, b.Images[key]["properties"])
	if err != nil {
		return Options{}, err
	}
	if len(props) > 0 {
		raw["properties"] = props
	}
	params, err := ImageSpec.Validate(raw)
	if err != nil {
		return Options{}, err
	}
	var opts Options
	encoded, _ := json.Marshal(params)
	if err := json.Unmarshal(encoded, &opts); err != nil {
		return Options{}, fmt.Errorf("decoding the spec: %w", err)
	}
	opts.Config = b.Config
	// As azimuth-ops' role: an image whose visibility is not to be changed
	// is also created without one, at Glance's default.
	opts.newAtGlanceDefaultVisibility = !opts.UpdateExistingVisibility
	return opts, nil
}

// mergeProperties lays the batch's properties over an image's own: for a
// key both set, the batch's wins, as in azimuth-ops' role, which passes
// community_images_custom_properties after a spec's properties to `openstack
// image set`, where the last --property of a key wins.
func mergeProperties(common, own any) (map[string]any, error) {
	base, err := parseProperties(common)
	if err != nil {
		return nil, fmt.Errorf("batch %w", err)
	}
	mine, err := parseProperties(own)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(base)+len(mine))
	for key, value := range mine {
		out[key] = value
	}
	for key, value := range base {
		out[key] = value
	}
	return out, nil
}

// disagreements lists the keys that name the same image with different
// specs: the image would take whichever ran last, changing at every run. Keys
// with the same spec are one image, ensured once.
func disagreements(specs map[string]Options) []string {
	first := map[string]string{}
	var out []string
	for _, key := range sortedKeys(specs) {
		name := specs[key].Name
		other, seen := first[name]
		if !seen {
			first[name] = key
			continue
		}
		if differ := differingOptions(specs[other], specs[key]); len(differ) > 0 {
			out = append(out, fmt.Sprintf("images.%s and images.%s both name the image %q but differ in %s; give each image its own name",
				other, key, name, strings.Join(differ, ", ")))
		}
	}
	return out
}

// differingOptions returns the names of the options in which a and b differ.
func differingOptions(a, b Options) []string {
	var fieldsA, fieldsB map[string]any
	encodedA, _ := json.Marshal(a)
	encodedB, _ := json.Marshal(b)
	_ = json.Unmarshal(encodedA, &fieldsA)
	_ = json.Unmarshal(encodedB, &fieldsB)
	var out []string
	for name, value := range fieldsA {
		if !reflect.DeepEqual(value, fieldsB[name]) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// EnsureAll ensures every image, at most jobs at a time. One image that fails
// does not stop the others; the error, a *BatchError, comes at the end.
func (e *Ensurer) EnsureAll(ctx context.Context, specs map[string]Options, jobs int, checkMode bool) (BatchResult, error) {
	if jobs < 1 {
		return BatchResult{}, fmt.Errorf("jobs is %d; expected 1 or more", jobs)
	}
	result := BatchResult{ImageIDs: map[string]string{}, Images: map[string]Result{}, Failed: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, jobs)
	// Two keys may name the same image: those run one after the other, so
	// that the second finds what the first uploaded instead of uploading again.
	byName := map[string]*sync.Mutex{}
	for _, opts := range specs {
		byName[opts.Name] = &sync.Mutex{}
	}
	for key, opts := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nameLock := byName[opts.Name]
			nameLock.Lock()
			defer nameLock.Unlock()
			slots <- struct{}{}
			defer func() { <-slots }()
			one, err := e.Ensure(ctx, opts, checkMode)
			mu.Lock()
			defer mu.Unlock()
			result.record(key, one, err)
		}()
	}
	wg.Wait()
	if len(result.Failed) > 0 {
		return result, &BatchError{Result: result}
	}
	result.Failed = nil
	return result, nil
}

func (r *BatchResult) record(key string, one Result, err error) {
	if err != nil {
		r.Failed[key] = err.Error()
		return
	}
	r.Images[key] = one
	if one.ID != "" {
		r.ImageIDs[key] = one.ID
	}
	if !one.Changed {
		return
	}
	r.Changed = true
	if one.Diff != nil {
		if r.Diff == nil {
			r.Diff = &Diff{Before: map[string]any{}, After: map[string]any{}}
		}
		r.Diff.Before[key], r.Diff.After[key] = one.Diff.Before, one.Diff.After
	}
}
