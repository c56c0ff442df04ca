package glance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Payload is one reading of an image's data, from its start.
type Payload struct {
	// Reader returns the data.
	Reader io.Reader
	// SHA512 returns the hex SHA-512 of the bytes Reader returned once read
	// to its end, to check against Glance's os_hash_value; nil or "" skips
	// the check.
	SHA512 func() string
	// Close releases the reading; nil when there is nothing to release.
	Close func() error
}

// Upload is one image to create and fill.
type Upload struct {
	// Create is the image record. Its Properties get RunProperty added; put
	// SourceURLProperty in them so that the image is known as this
	// collection's from its create on.
	Create images.CreateOpts
	// Open returns the data from its start; it is called again for each
	// retry of the upload, so it must be able to read the data again (a
	// file, or the source URL downloaded again).
	Open func(ctx context.Context) (*Payload, error)
	// Finish returns the patches that record what is known once the data
	// was sent and verified: SourceSizeProperty at least, which marks the
	// image Complete, and protected when asked.
	Finish func(image *images.Image) images.UpdateOpts
}

// errNotActive is wrapped by the error of an upload after which Glance
// shows the image in another status than active.
var errNotActive = errors.New("image not active after its upload")

// CreateAndUpload creates the image, sends its data, reads it back, checks
// that Glance stored the bytes sent (os_hash_value, when Glance hashes with
// sha512) and applies Finish. A failed attempt's image is deleted and, when
// the failure is Retryable, the whole upload is tried again into a new
// image with the data read again, up to WithRetries times. No image of a
// failed upload is left behind unless deleting it failed too (the error
// says so; the next run deletes it once stale).
func (c *Client) CreateAndUpload(ctx context.Context, u Upload) (*images.Image, error) {
	run, err := runMarker()
	if err != nil {
		return nil, err
	}
	attempt := 0
	var image *images.Image
	var createErr error
	err = c.retry(ctx, func() (err error) {
		attempt++
		image, createErr, err = c.uploadOnce(ctx, u, fmt.Sprintf("%s-%d", run, attempt))
		if createErr != nil {
			return nil // create retried on its own: not again for each try of the upload
		}
		return err
	})
	if createErr != nil {
		return nil, createErr
	}
	return image, err
}

func runMarker() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a run marker: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// uploadOnce creates the image and fills it. A failed create (already
// retried by create) comes back as createErr, any later failure as err.
func (c *Client) uploadOnce(ctx context.Context, u Upload, marker string) (image *images.Image, createErr, err error) {
	created, createErr := c.create(ctx, u.Create, marker)
	if createErr != nil {
		return nil, createErr, nil
	}
	image, err = c.fill(ctx, created, u)
	if err == nil {
		return image, nil, nil
	}
	if cleanupErr := c.deleteDetached(created.ID); cleanupErr != nil {
		return nil, nil, fmt.Errorf("%w; and deleting the incomplete image %s failed too (a later run deletes it once it is stale): %v", err, created.ID, cleanupErr)
	}
	return nil, nil, err
}

// create creates the image record with RunProperty set to marker. When a
// create fails without an answer, or with a 5xx, Glance may have made the
// image all the same: it is looked for by its marker before the create is
// sent again.
func (c *Client) create(ctx context.Context, opts images.CreateOpts, marker string) (*images.Image, error) {
	opts.Properties = maps.Clone(opts.Properties)
	if opts.Properties == nil {
		opts.Properties = map[string]string{}
	}
	opts.Properties[RunProperty] = marker
	if c.owner != "" && c.owner != c.project {
		// An image for another project (WithOwner): Glance takes owner in
		// the create body from admins (Image API v2, "Create image").
		opts.Properties["owner"] = c.owner
	}
	var image *images.Image
	err := c.retry(ctx, func() error {
		created, err := images.Create(ctx, c.sc, opts).Extract()
		if err == nil || !Retryable(err) {
			image = created
			return err
		}
		if made, findErr := c.findMarked(ctx, opts.Name, marker); findErr == nil && made != nil {
			image = made
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating image %q in Glance at %s: %w", opts.Name, c.where(), err)
	}
	return image, nil
}

// findMarked returns the image of that name with RunProperty marker, or nil.
func (c *Client) findMarked(ctx context.Context, name, marker string) (*images.Image, error) {
	found, err := c.List(ctx, Query{Name: name, Visibility: "all", Owner: c.Owner(), Filters: map[string]string{RunProperty: marker}})
	if err != nil {
		return nil, err
	}
	for i := range found {
		if value, _ := Property(&found[i], RunProperty); value == marker {
			return &found[i], nil
		}
	}
	return nil, nil
}

// fill sends the data into a created image, checks what Glance stored and
// applies u.Finish.
func (c *Client) fill(ctx context.Context, created *images.Image, u Upload) (*images.Image, error) {
	payload, err := u.Open(ctx)
	if err != nil {
		return nil, err
	}
	if payload.Close != nil {
		defer payload.Close()
	}
	sent := &countingReader{r: payload.Reader}
	stop := c.heartbeat(ctx, created.ID, sent, images.ImageStatusSaving)
	sent.beforeEnd = stop
	err = imagedata.Upload(ctx, c.sc, created.ID, sent).ExtractErr()
	stop()
	if err != nil {
		return nil, fmt.Errorf("uploading image %q (%s) to Glance at %s: %w", created.Name, created.ID, c.where(), err)
	}
	image, err := c.Get(ctx, created.ID)
	if err != nil {
		return nil, fmt.Errorf("reading back image %q: %w", created.Name, err)
	}
	if err := verify(image, payload); err != nil {
		return nil, err
	}
	patches := u.Finish(image)
	if _, beating := image.Properties[HeartbeatProperty]; beating {
		patches = append(patches, images.UpdateImageProperty{Op: images.RemoveOp, Name: HeartbeatProperty})
	}
	image, err = c.Update(ctx, created.ID, patches)
	if err != nil {
		return nil, fmt.Errorf("recording the provenance of image %q: %w", created.Name, err)
	}
	return image, nil
}

// verify checks that an image read back after its upload is active and
// holds the bytes sent.
func verify(image *images.Image, payload *Payload) error {
	if image.Status != images.ImageStatusActive {
		return fmt.Errorf("image %q (%s) is %s after its upload: %w", image.Name, image.ID, image.Status, errNotActive)
	}
	if payload.SHA512 == nil {
		return nil
	}
	algo, stored := Hash(image)
	if want := payload.SHA512(); algo == "sha512" && want != "" && stored != want {
		return fmt.Errorf("image %q (%s): Glance stored bytes with sha512 %s but %s were sent", image.Name, image.ID, stored, want)
	}
	return nil
}

// countingReader counts the bytes read through it: the upload's progress.
// It is the body of every upload and staging request. With beforeEnd set,
// it holds the data's last byte back until beforeEnd returned: Glance
// changes the image's status (saving to active, or the end of a staging)
// only once it has every byte, so nothing the heartbeat sends before
// beforeEnd returns can meet that change (see heartbeat).
type countingReader struct {
	r         io.Reader
	n         atomic.Int64 // bytes handed on (held bytes not counted)
	beforeEnd func()       // called once, before the last byte is handed on
	held      bool         // last holds a byte read but not handed on
	last      byte
	ended     bool // the data ended and beforeEnd ran
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.beforeEnd == nil {
		n, err := c.r.Read(p)
		c.n.Add(int64(n))
		return n, err
	}
	return c.readHoldingLast(p)
}

// readHoldingLast reads like Read but keeps the last byte read back until
// the next read, and calls beforeEnd before it hands on the data's last.
func (c *countingReader) readHoldingLast(p []byte) (int, error) {
	if c.ended {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	have := 0
	if c.held {
		p[0], have = c.last, 1
	}
	n, err := c.r.Read(p[have:])
	have += n
	if errors.Is(err, io.EOF) {
		c.ended, c.held = true, false
		c.beforeEnd()
		c.n.Add(int64(have))
		return have, io.EOF
	}
	if have == 0 {
		c.held = false
		return 0, err
	}
	c.held, c.last = true, p[have-1]
	c.n.Add(int64(have - 1))
	return have - 1, err
}

// WriteTo counts what the reader writes (its own WriteTo, when it has one,
// such as a converted image's) on its way to w: net/http then sends the
// reader's writes as they come, without copying them through its buffer.
// With beforeEnd set, the last byte is held back as Read holds it.
func (c *countingReader) WriteTo(w io.Writer) (int64, error) {
	counted := &countingWriter{w: w, n: &c.n}
	if c.beforeEnd == nil {
		return io.Copy(counted, c.r)
	}
	if c.ended {
		return 0, nil
	}
	holding := &holdingWriter{w: counted, held: c.held, last: c.last}
	c.held = false
	n, err := io.Copy(holding, c.r)
	if err != nil {
		return n, err
	}
	c.ended = true
	c.beforeEnd()
	return n, holding.flush()
}

// holdingWriter writes all but the last byte written to it; flush writes that one.
type holdingWriter struct {
	w    io.Writer
	held bool
	last byte
}

func (h *holdingWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := h.flush(); err != nil {
		return 0, err
	}
	if _, err := h.w.Write(p[:len(p)-1]); err != nil {
		return 0, err
	}
	h.held, h.last = true, p[len(p)-1]
	return len(p), nil
}

// flush writes the byte held back, if any.
func (h *holdingWriter) flush() error {
	if !h.held {
		return nil
	}
	h.held = false
	_, err := h.w.Write([]byte{h.last})
	return err
}

// countingWriter adds the bytes written through it to n.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// ErrDataAlreadySent is wrapped by the error of an upload or a staging
// that Glance refused with 401 (a token that expired or was revoked before
// the request reached Glance) after some of the data was read: gophercloud
// renews the token and would send the request again, but a stream cannot be
// read again from its start. Retryable takes it: CreateAndUpload and
// CreateAndImport try again into a new image, with the data opened afresh
// (and the renewed token).
var ErrDataAlreadySent = errors.New("Glance refused the token (401) after part of the image data was sent, and a stream cannot be sent again from its start")

// Seek is called by gophercloud only to rewind a request's body before it
// sends the request again with a renewed token (after a 401). Nothing read
// yet: the body is at its start. Otherwise it fails with ErrDataAlreadySent,
// which gophercloud returns instead of sending what is left of the stream as
// if it were the whole image.
func (c *countingReader) Seek(offset int64, whence int) (int64, error) {
	if offset == 0 && whence == io.SeekStart && c.n.Load() == 0 && !c.held && !c.ended {
		return 0, nil
	}
	return 0, ErrDataAlreadySent
}

// heartbeat patches HeartbeatProperty every StaleAfter/4 in which bytes
// were sent, until stop is called, so that other runs see the upload making
// progress (see the package doc); an upload that hangs stops beating and
// becomes stale. Failures are ignored: a missed beat only brings the upload
// nearer to looking stale.
//
// Glance saves a PATCHed image whole, status included, as it read it when
// the request began (glance.db ImageRepo.save without from_state): a beat
// that overlaps a change of status writes the old status back, and the
// upload then ends in 410 "could not be found after upload" (or, at its end,
// an image stuck in saving). So with during set (saving for an upload,
// uploading for a staging) the first beat waits until Glance shows that
// status, and stop lets a beat in flight finish rather than cancel it (a
// PATCH cut off on our side may still be saved); with the data's last byte
// held until stop returned (countingReader.beforeEnd), Glance cannot leave
// that status while a beat is in flight. stop may be called more than once.
func (c *Client) heartbeat(ctx context.Context, id string, sent *countingReader, during images.ImageStatus) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(c.staleAfter / 4)
		defer ticker.Stop()
		var last int64
		seen := during == ""
		for {
			select {
			case <-ctx.Done():
				return
			case <-quit:
				return
			case <-ticker.C:
			}
			progress := sent.n.Load()
			if progress == last {
				continue
			}
			if !seen {
				image, err := images.Get(ctx, c.sc, id).Extract()
				if seen = err == nil && image.Status == during; !seen {
					continue
				}
			}
			last = progress
			beat := images.UpdateImageProperty{Op: images.AddOp, Name: HeartbeatProperty, Value: c.now().UTC().Format(time.RFC3339)}
			_, _ = images.Update(ctx, c.sc, id, images.UpdateOpts{beat}).Extract()
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}
