package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// The values of import_method.
const (
	// ImportUpload sends the data with PUT /v2/images/{id}/file (the default).
	ImportUpload = "upload"
	// ImportWebDownload has Glance download source_url itself.
	ImportWebDownload = glance.ImportWebDownload
	// ImportGlanceDirect stages the data in Glance, then imports it.
	ImportGlanceDirect = glance.ImportGlanceDirect
)

// ImportMethods are import_method's choices.
var ImportMethods = []string{ImportUpload, ImportWebDownload, ImportGlanceDirect}

// checkImportMethod checks what can be checked of import_method without
// reading the source: web-download needs a URL Glance can fetch, without
// credentials (Glance keeps the URL in its import task, for the project to read).
func (d desired) checkImportMethod() error {
	switch d.ImportMethod {
	case "", ImportUpload, ImportGlanceDirect:
		return nil
	case ImportWebDownload:
	default:
		return fmt.Errorf("import_method %q is not known; expected one of %s, %s, %s", d.ImportMethod, ImportUpload, ImportWebDownload, ImportGlanceDirect)
	}
	u, err := url.Parse(d.SourceURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("import_method web-download needs an http or https source_url that Glance can fetch, not %s; use import_method upload", fetch.RedactURL(d.SourceURL))
	}
	if u.User != nil {
		return fmt.Errorf("import_method web-download would give Glance the credentials in source_url %s (Glance keeps the URL in its import task, which the project can read); use import_method upload",
			fetch.RedactURL(d.SourceURL))
	}
	return nil
}

// importImage creates the image through Glance's interoperable import. The
// first bytes of the source are read to check that Glance can store it as it
// comes (no decompression, no conversion, no qcow2 that names other files);
// otherwise it fails before anything is written. With web-download no other
// byte of the image passes through this machine, unless the checksums given
// need it (see verifiedAlongside).
func (e *Ensurer) importImage(ctx context.Context, d desired) (*images.Image, error) {
	ctx, cancel := context.WithCancel(ctx) // also stops a reading of the source alongside Glance's
	defer cancel()
	src, err := e.open(ctx, d)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	target, err := e.importable(d, src)
	if err != nil {
		return nil, err
	}
	imp := glance.Import{Create: d.createOpts(target), Method: d.ImportMethod, URI: d.SourceURL,
		Timeout: time.Duration(d.ImportTimeout) * time.Second}
	switch d.ImportMethod {
	case ImportWebDownload:
		imp.SHA512 = d.checksum(fetch.SHA512)
		if imp.SHA512 != "" || len(d.checksums) == 0 {
			src.Close() // Glance downloads it; its os_hash_value is checked against checksum_sha512
			imp.Finish = func(image *images.Image) images.UpdateOpts { return d.importedPatches(image) }
			break
		}
		verify, stop := d.verifiedAlongside(src, cancel)
		defer stop()
		imp.Verify = verify
		imp.Finish = func(*images.Image) images.UpdateOpts { return d.finalPatches(src) }
	case ImportGlanceDirect:
		first, last := src, src
		imp.Stage = func(ctx context.Context) (*glance.Payload, error) {
			staged := first
			first = nil
			if staged == nil { // staged again (ErrDataAlreadySent): the source is read again
				var err error
				if staged, err = e.open(ctx, d); err != nil {
					return nil, err
				}
			}
			last = staged
			return &glance.Payload{Reader: bounded(d, target, staged), SHA512: streamedSHA512(staged), Close: staged.Close}, nil
		}
		imp.Finish = func(*images.Image) images.UpdateOpts { return d.finalPatches(last) }
	}
	image, err := e.glance.CreateAndImport(ctx, imp)
	if errors.Is(err, glance.ErrImportTimedOut) {
		return nil, fmt.Errorf("importing %q: %w; the image was deleted (raise import_timeout if Glance needs longer)", d.Name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("importing %q: %w", d.Name, err)
	}
	return image, nil
}

// verifiedAlongside reads the source here, to its end, while Glance
// downloads it for a web-download whose checksums Glance cannot check
// (sha256 and the others, or a checksum file: Glance hashes with sha512
// only). fetch verifies the checksums as the bytes pass; verify then
// compares the source's sha512 with Glance's os_hash_value, so that the
// image holds the very bytes whose checksums were verified. stop ends the
// reading (cancel is the source's context) and waits for it.
func (d desired) verifiedAlongside(src *fetch.Source, cancel context.CancelFunc) (verify func(context.Context, *images.Image) error, stop func()) {
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(done)
		_, readErr = io.Copy(io.Discard, src)
	}()
	verify = func(ctx context.Context, image *images.Image) error {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if readErr != nil {
			return fmt.Errorf("verifying the source of %q, read here while Glance imported it: %w", d.Name, readErr)
		}
		digests, _ := src.Digests()
		if algo, stored := glance.Hash(image); algo != string(fetch.SHA512) || stored != digests.RawSHA512 {
			return fmt.Errorf("image %q (%s): Glance's import stored data with %s %s, but the source read here, whose checksum was verified, has sha512 %s: "+
				"the source changed between the two downloads, or Glance stored other bytes", image.Name, image.ID, algo, stored, digests.RawSHA512)
		}
		return nil
	}
	return verify, func() { cancel(); <-done }
}

// importable checks, from the source's first bytes, that the source goes
// into Glance as it comes, and returns the disk format it is stored in (as
// an upload would: disk_format, or the source's own for kernels, ramdisks
// and ISOs).
func (e *Ensurer) importable(d desired, src *fetch.Source) (string, error) {
	header, err := src.Peek(fetch.FormatHeaderLen)
	if err != nil && len(header) == 0 {
		return "", fmt.Errorf("reading the start of %s: %w", fetch.RedactURL(d.SourceURL), err)
	}
	sourceFormat, err := sourceFormatOf(d, header)
	if err != nil {
		return "", err
	}
	target := d.DiskFormat
	if uploadedAsItComes(sourceFormat) {
		target = sourceFormat
	}
	why := ""
	switch {
	case src.Decompressed():
		why = fmt.Sprintf("the source is %s-compressed and Glance stores what it gets", src.Compression())
	case sourceFormat != target:
		why = fmt.Sprintf("the source is %s and disk_format is %s: it needs converting", sourceFormat, target)
	case sourceFormat == "qcow2" && qcow2NamesOtherFiles(header):
		why = "the source is a qcow2 that names a backing file or an external data file"
	case hasStructure(sourceFormat) && sourceFormat != "qcow2":
		why = fmt.Sprintf("a %s source is checked with qemu-img before it is used, which needs its bytes here", sourceFormat)
	}
	if why != "" {
		return "", fmt.Errorf("import_method %s cannot be used for %s: %s; use import_method upload (the default)", d.ImportMethod, fetch.RedactURL(d.SourceURL), why)
	}
	return target, nil
}

// qcow2NamesOtherFiles reads a qcow2 header (QEMU's docs/interop/qcow2.txt):
// a backing file (backing_file_offset, bytes 8-15) or, in version 3, an
// external data file (incompatible feature bit 2, bytes 72-79).
func qcow2NamesOtherFiles(header []byte) bool {
	if len(header) < 80 {
		return true // too short to tell: not taken as harmless
	}
	if binary.BigEndian.Uint64(header[8:16]) != 0 {
		return true
	}
	version := binary.BigEndian.Uint32(header[4:8])
	return version >= 3 && binary.BigEndian.Uint64(header[72:80])&(1<<2) != 0
}

// checksum returns the hex digest of the task's checksum of that algorithm, or "".
func (d desired) checksum(algorithm fetch.Algorithm) string {
	for _, sum := range d.checksums {
		if sum.Algorithm == algorithm && sum.Hex != "" {
			return sum.Hex
		}
	}
	return ""
}

// importedPatches records the provenance of a web-download image: Glance
// stored the source as it came, so its size and os_hash_value (sha512) are
// the source's. Used when checksum_sha512 verified it, or no checksum was
// given (other checksums are verified by verifiedAlongside, and recorded by
// finalPatches).
func (d desired) importedPatches(image *images.Image) images.UpdateOpts {
	// The size marks the image complete (glance.Complete): Glance stored
	// the source's bytes as they came.
	patches := images.UpdateOpts{images.UpdateImageProperty{Op: images.AddOp, Name: SourceSizeProperty,
		Value: strconv.FormatInt(image.SizeBytes, 10)}}
	if algo, value := glance.Hash(image); algo == string(fetch.SHA512) && value != "" {
		patches = append(patches, images.UpdateImageProperty{Op: images.AddOp, Name: SourceSHA512Property, Value: value})
	}
	if d.Protected != nil && *d.Protected {
		patches = append(patches, images.ReplaceImageProtected{NewProtected: true})
	}
	return patches
}
