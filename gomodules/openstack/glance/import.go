package glance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// The methods of Glance's interoperable image import (Image API v2,
// "Interoperable image import").
const (
	// ImportWebDownload makes Glance download the image from a URL itself.
	ImportWebDownload = string(imageimport.WebDownloadMethod)
	// ImportGlanceDirect stages the data in Glance, then imports it.
	ImportGlanceDirect = string(imageimport.GlanceDirectMethod)
)

// importPoll is how often an import's progress is read.
const importPoll = time.Second

// DefaultImportTimeout bounds the wait for an import unless Import.Timeout
// says otherwise: an hour, openstacksdk's create_image default.
const DefaultImportTimeout = time.Hour

// ErrImportFailed is wrapped by the error of an import whose Glance task
// failed; the error quotes the task's message.
var ErrImportFailed = errors.New("Glance's import task failed")

// ErrImportTimedOut is wrapped by the error of an import that did not end
// within its Timeout (a slow source, or a task Glance never runs: one whose
// flow it could not build stays "processing" for ever). The image is
// deleted, as for any failed import.
var ErrImportTimedOut = errors.New("the import did not end in time")

// Import is one image to create and fill through the interoperable import.
type Import struct {
	// Create is the image record, as Upload.Create.
	Create images.CreateOpts
	// Method is ImportWebDownload or ImportGlanceDirect.
	Method string
	// URI is the URL Glance downloads, for ImportWebDownload.
	URI string
	// Stage returns the data to stage, for ImportGlanceDirect, from its
	// start: it is called again when the staging is tried again.
	Stage func(ctx context.Context) (*Payload, error)
	// SHA512 is the SHA-512 the stored data must have (os_hash_value); ""
	// when unknown (the result is then not verified). For a staged import
	// the Payload's SHA512, when set, is checked too.
	SHA512 string
	// Verify, when set, checks the active image further (after SHA512); its
	// error fails the import, and the image is deleted.
	Verify func(ctx context.Context, image *images.Image) error
	// Finish returns the patches that record what is known once the image is
	// active and verified, as Upload.Finish.
	Finish func(image *images.Image) images.UpdateOpts
	// Timeout bounds the wait for the import to end, from its start; 0
	// means DefaultImportTimeout (see ErrImportTimedOut).
	Timeout time.Duration
}

// CreateAndImport creates the image, starts Glance's import of its data
// (web-download: Glance fetches URI; glance-direct: the data is staged
// first), waits until the image is active, checks os_hash_value against
// SHA512, calls Verify and applies Finish. An import that fails leaves no
// image: the image is deleted, and the error is Glance's task message. A
// staging that Glance refused after part of the data was read
// (ErrDataAlreadySent: the token expired or was revoked) is tried again
// into a new image, with Stage called again, up to WithRetries times.
func (c *Client) CreateAndImport(ctx context.Context, imp Import) (*images.Image, error) {
	run, err := runMarker()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		image, err := c.importOnce(ctx, imp, fmt.Sprintf("%s-import-%d", run, attempt))
		if !errors.Is(err, ErrDataAlreadySent) || attempt > c.retries {
			return image, err
		}
	}
}

// importOnce creates one image and imports into it; it deletes the image
// when the import fails.
func (c *Client) importOnce(ctx context.Context, imp Import, marker string) (*images.Image, error) {
	created, err := c.create(ctx, imp.Create, marker)
	if err != nil {
		return nil, err
	}
	image, err := c.importInto(ctx, created, imp)
	if err == nil {
		return image, nil
	}
	if cleanupErr := c.deleteDetached(created.ID); cleanupErr != nil {
		return nil, fmt.Errorf("%w; and deleting the image %s failed too (a later run deletes it once it is stale): %v", err, created.ID, cleanupErr)
	}
	return nil, err
}

func (c *Client) importInto(ctx context.Context, created *images.Image, imp Import) (*images.Image, error) {
	// The heartbeat shows progress: bytes staged, then each poll that finds
	// Glance still importing (see the package doc on stale leftovers).
	progress := &countingReader{}
	var payload *Payload
	switch imp.Method {
	case ImportWebDownload:
	case ImportGlanceDirect:
		var err error
		if payload, err = imp.Stage(ctx); err != nil {
			return nil, err
		}
		if payload.Close != nil {
			defer payload.Close()
		}
		progress.r = payload.Reader
		stopStaging := c.heartbeat(ctx, created.ID, progress, images.ImageStatusUploading)
		progress.beforeEnd = stopStaging
		err = imagedata.Stage(ctx, c.sc, created.ID, progress).ExtractErr()
		stopStaging()
		if err != nil {
			return nil, fmt.Errorf("staging the data of image %q (%s) in Glance at %s: %w", created.Name, created.ID, c.where(), err)
		}
	default:
		return nil, fmt.Errorf("%w: import method %q; expected %s or %s", ErrInvalidOption, imp.Method, ImportWebDownload, ImportGlanceDirect)
	}
	opts := imageimport.CreateOpts{Name: imageimport.ImportMethod(imp.Method)}
	if imp.Method == ImportWebDownload {
		// Only for web-download: a glance-direct import given a uri takes it
		// for the staging file, and its task then hangs in "processing".
		opts.URI = imp.URI
	}
	// While Glance imports, each poll that finds it still importing is
	// progress. Glance's task changes the status at a time no one here
	// chooses, so a beat can still meet that change (see heartbeat): left
	// as it is, since without beats a long import would look stale.
	stop := c.heartbeat(ctx, created.ID, progress, "")
	defer stop()
	if err := c.retry(ctx, func() error { return imageimport.Create(ctx, c.sc, created.ID, opts).ExtractErr() }); err != nil {
		return nil, fmt.Errorf("starting the %s import of image %q (%s) in Glance at %s: %w", imp.Method, created.Name, created.ID, c.where(), err)
	}
	image, err := c.awaitImport(ctx, created, imp, progress)
	if err != nil {
		return nil, err
	}
	if payload != nil {
		if err := verify(image, payload); err != nil {
			return nil, err
		}
	}
	if algo, stored := Hash(image); imp.SHA512 != "" && (algo != "sha512" || stored != imp.SHA512) {
		return nil, fmt.Errorf("image %q (%s): Glance's import stored data with %s %s, but its sha512 checksum is %s", image.Name, image.ID, algo, stored, imp.SHA512)
	}
	if imp.Verify != nil {
		if err := imp.Verify(ctx, image); err != nil {
			return nil, err
		}
	}
	patches := imp.Finish(image)
	if _, beating := image.Properties[HeartbeatProperty]; beating {
		patches = append(patches, images.UpdateImageProperty{Op: images.RemoveOp, Name: HeartbeatProperty})
	}
	if image, err = c.Update(ctx, created.ID, patches); err != nil {
		return nil, fmt.Errorf("recording the provenance of image %q: %w", created.Name, err)
	}
	return image, nil
}

// awaitImport waits until the image is active, or its import task failed.
func (c *Client) awaitImport(ctx context.Context, created *images.Image, imp Import, progress *countingReader) (*images.Image, error) {
	timeout := imp.Timeout
	if timeout <= 0 {
		timeout = DefaultImportTimeout
	}
	deadline := c.now().Add(timeout)
	for {
		image, err := c.Get(ctx, created.ID)
		if err != nil {
			return nil, err
		}
		if image.Status == images.ImageStatusActive {
			return image, nil
		}
		if message, failed, err := c.failedTask(ctx, created.ID); err != nil {
			return nil, err
		} else if failed {
			return nil, fmt.Errorf("importing image %q (%s) with %s in Glance at %s: %w: %s", created.Name, created.ID, imp.Method, c.where(), ErrImportFailed, message)
		}
		if image.Status == images.ImageStatusKilled || image.Status == images.ImageStatusDeleted {
			return nil, fmt.Errorf("importing image %q (%s) with %s in Glance at %s: the image is %s", created.Name, created.ID, imp.Method, c.where(), image.Status)
		}
		if c.now().After(deadline) {
			return nil, fmt.Errorf("importing image %q (%s) with %s in Glance at %s: %w: still %s after %s", created.Name, created.ID, imp.Method, c.where(), ErrImportTimedOut, image.Status, timeout)
		}
		progress.n.Add(1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(importPoll):
		}
	}
}

// failedTask reads the image's import tasks (GET /v2/images/{id}/tasks,
// Image API v2.12) and returns the message of a failed one.
func (c *Client) failedTask(ctx context.Context, id string) (string, bool, error) {
	var body struct {
		Tasks []struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"tasks"`
	}
	err := c.retry(ctx, func() error {
		_, err := c.sc.Get(ctx, c.sc.ServiceURL("images", id, "tasks"), &body, nil)
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("reading the import tasks of image %s in Glance at %s: %w", id, c.where(), err)
	}
	for _, task := range body.Tasks {
		if task.Status == "failure" {
			return task.Message, true, nil
		}
	}
	return "", false, nil
}
