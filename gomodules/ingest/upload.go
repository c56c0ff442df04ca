package ingest

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/convert"
	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Provenance properties recorded on every image this package uploads
// (see package glance).
const (
	SourceURLProperty    = glance.SourceURLProperty
	SourceSHA256Property = glance.SourceSHA256Property
	SourceSHA512Property = glance.SourceSHA512Property
)

// sectorSize is the unit of a virtual disk: a raw image's size is a multiple of it.
const sectorSize = 512

// sourceHashProperty names the property that records the source's digest
// of an algorithm, or "" for the algorithms not recorded.
func sourceHashProperty(algorithm fetch.Algorithm) string {
	switch algorithm {
	case fetch.SHA256:
		return SourceSHA256Property
	case fetch.SHA512:
		return SourceSHA512Property
	}
	return ""
}

// upload downloads the source and uploads it to Glance: straight from the
// network when the source is already in the target disk format, else through
// a download and a qemu-img conversion in a private directory under workdir.
// It reports whether the data was converted.
func (e *Ensurer) upload(ctx context.Context, d desired) (*images.Image, bool, error) {
	src, err := e.open(ctx, d)
	if err != nil {
		return nil, false, err
	}
	defer src.Close()
	header, err := src.Peek(fetch.FormatHeaderLen)
	if err != nil && err != io.EOF {
		return nil, false, fmt.Errorf("reading the start of %s: %w", fetch.RedactURL(d.SourceURL), err)
	}
	sourceFormat, err := sourceFormatOf(d, header)
	if err != nil {
		return nil, false, err
	}
	target := d.DiskFormat
	if uploadedAsItComes(sourceFormat) {
		target = sourceFormat
	}
	if sourceFormat == target {
		image, err := e.streamUpload(ctx, d, target, src)
		return image, false, err
	}
	image, err := e.convertAndUpload(ctx, d, sourceFormat, target, checkedSectors(d, sourceFormat, src), src)
	return image, true, err
}

// open starts the download of d's source.
func (e *Ensurer) open(ctx context.Context, d desired) (*fetch.Source, error) {
	opts := append([]fetch.Option{fetch.WithChecksums(d.checksums...), fetch.WithDecompress(d.decompress),
		fetch.WithDiskFormat(d.SourceDiskFormat)}, e.fetch...)
	src, err := fetch.Open(ctx, d.SourceURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("downloading %q: %w", d.Name, err)
	}
	return src, nil
}

// checkedSectors fails a raw source that is not a whole number of sectors.
func checkedSectors(d desired, sourceFormat string, src *fetch.Source) io.Reader {
	if sourceFormat == "raw" {
		return &sectorChecked{r: src, url: fetch.RedactURL(d.SourceURL)}
	}
	return src
}

// streamUpload uploads the source as it streams, from first; a retried
// upload downloads the source again.
func (e *Ensurer) streamUpload(ctx context.Context, d desired, diskFormat string, first *fetch.Source) (*images.Image, error) {
	last := first
	sourceFormat := diskFormat
	open := func(ctx context.Context) (*glance.Payload, error) {
		src := first
		first = nil
		if src == nil {
			var err error
			if src, err = e.open(ctx, d); err != nil {
				return nil, err
			}
		}
		last = src
		// The bytes uploaded are the bytes the source streams, whose SHA-512
		// fetch computes anyway: no second pass over them.
		streamed := func() string { digests, _ := src.Digests(); return digests.SHA512 }
		return &glance.Payload{Reader: checkedSectors(d, sourceFormat, src), SHA512: streamed, Close: src.Close}, nil
	}
	return e.glance.CreateAndUpload(ctx, glance.Upload{Create: d.createOpts(diskFormat), Open: open,
		Finish: func(*images.Image) images.UpdateOpts { return d.finalPatches(last) }})
}

// sourceFormatOf returns the source's disk format: the declared one after
// checking that the data agrees, or the detected one. Formats are never
// guessed from the file name.
func sourceFormatOf(d desired, header []byte) (string, error) {
	declared := d.SourceDiskFormat
	if isKernelOrRamdisk(declared) {
		return declared, nil
	}
	url := fetch.RedactURL(d.SourceURL)
	if looksLikeText(header) {
		return "", fmt.Errorf("the data at %s is not a disk image: it starts with text (%q); check source_url", url, snippet(header))
	}
	detected := fetch.DetectFormat(header)
	switch {
	case declared == "":
		return detected, nil
	case declared != detected && hasMagic(declared):
		return "", fmt.Errorf("source_disk_format is %s but the data at %s is %s; correct source_disk_format or omit it to detect the format",
			declared, url, detected)
	}
	return declared, nil
}

// hasMagic tells whether a disk format starts with a signature that
// fetch.DetectFormat recognises, so that a mismatch is certain.
func hasMagic(format string) bool {
	switch format {
	case "qcow2", "vmdk", "vhdx", "vdi", "iso":
		return true
	}
	return false
}

func isKernelOrRamdisk(format string) bool {
	return format == "aki" || format == "ari"
}

// uploadedAsItComes tells whether a source format is never converted:
// kernels, ramdisks, and ISO 9660 images, which Glance serves as CD-ROMs
// (a qcow2 disk holding an ISO is never what is meant).
func uploadedAsItComes(format string) bool {
	return isKernelOrRamdisk(format) || format == "iso"
}

// looksLikeText reports a header made only of printable UTF-8 text, such as
// an HTML error page served instead of an image.
func looksLikeText(header []byte) bool {
	sample := header
	if len(sample) > sectorSize {
		sample = sample[:sectorSize]
	}
	if len(sample) == 0 || !utf8.Valid(sample) {
		return false
	}
	for _, r := range string(sample) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func snippet(header []byte) string {
	text := strings.TrimSpace(string(header))
	if len(text) > 40 {
		text = text[:40] + "..."
	}
	return text
}

// convertAndUpload writes the source to a private directory, converts it
// with qemu-img and uploads the result. The directory is removed whatever
// happens.
func (e *Ensurer) convertAndUpload(ctx context.Context, d desired, sourceFormat, target string, data io.Reader, src *fetch.Source) (*images.Image, error) {
	dir, err := os.MkdirTemp(d.Workdir, ".imageops-community-image-")
	if err != nil {
		return nil, fmt.Errorf("creating a working directory for %q in %q (workdir): %w", d.Name, d.Workdir, err)
	}
	defer os.RemoveAll(dir)
	downloaded := filepath.Join(dir, "source."+sourceFormat)
	if err := writeFile(downloaded, data); err != nil {
		return nil, fmt.Errorf("downloading %s for %q: %w", fetch.RedactURL(d.SourceURL), d.Name, err)
	}
	converted := filepath.Join(dir, "converted."+target)
	request := convert.Request{Src: downloaded, Dest: converted, SrcFormat: sourceFormat, DestFormat: target}
	// The converted file is read once and deleted: it need not reach the disk.
	if _, err := convert.Convert(ctx, request, append([]convert.Option{convert.WithoutSync()}, e.convert...)...); err != nil {
		return nil, fmt.Errorf("converting %q from %s to %s: %w", d.Name, sourceFormat, target, err)
	}
	_ = os.Remove(downloaded) // free the space before the upload
	// The converted file is there for every try of the upload.
	open := func(context.Context) (*glance.Payload, error) {
		file, err := os.Open(converted)
		if err != nil {
			return nil, fmt.Errorf("opening the converted image of %q: %w", d.Name, err)
		}
		uploaded := newHashingReader(file)
		return &glance.Payload{Reader: uploaded, SHA512: uploaded.hex, Close: file.Close}, nil
	}
	return e.glance.CreateAndUpload(ctx, glance.Upload{Create: d.createOpts(target), Open: open,
		Finish: func(*images.Image) images.UpdateOpts { return d.finalPatches(src) }})
}

func writeFile(path string, data io.Reader) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(file, data); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// createOpts is the image record created before the upload. protected is set
// only after the upload (finalPatches), so that a failed upload can still be
// deleted.
func (d desired) createOpts(diskFormat string) images.CreateOpts {
	visibility := images.ImageVisibility(d.Visibility)
	properties := map[string]string{SourceURLProperty: fetch.RedactURL(d.SourceURL)}
	for key, value := range d.properties {
		properties[key] = value
	}
	opts := images.CreateOpts{Name: d.Name, DiskFormat: diskFormat, ContainerFormat: d.ContainerFormat,
		Visibility: &visibility, Tags: d.Tags, Properties: properties}
	if d.MinDisk != nil {
		opts.MinDisk = *d.MinDisk
	}
	if d.MinRAM != nil {
		opts.MinRAM = *d.MinRAM
	}
	return opts
}

// finalPatches records the source's hashes, known only once it was read to
// its end, and protects the image if asked.
func (d desired) finalPatches(src *fetch.Source) images.UpdateOpts {
	digests, _ := src.Digests() // complete: the upload read the source to its end
	patches := images.UpdateOpts{
		images.UpdateImageProperty{Op: images.AddOp, Name: SourceSHA256Property, Value: digests.RawSHA256},
		images.UpdateImageProperty{Op: images.AddOp, Name: SourceSHA512Property, Value: digests.RawSHA512},
	}
	if d.Protected != nil && *d.Protected {
		patches = append(patches, images.ReplaceImageProtected{NewProtected: true})
	}
	return patches
}

// hashingReader computes the SHA-512 of what was read: Glance's default
// os_hash_algo, to check the stored image against what was sent.
type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func newHashingReader(r io.Reader) *hashingReader {
	return &hashingReader{r: r, h: sha512.New()}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

func (h *hashingReader) hex() string { return hex.EncodeToString(h.h.Sum(nil)) }

// sectorChecked fails a raw image whose size is not a whole number of
// sectors at its end, instead of returning io.EOF, so that an upload of it
// is aborted: such a file is not a virtual disk.
type sectorChecked struct {
	r     io.Reader
	url   string
	count int64
}

func (s *sectorChecked) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.count += int64(n)
	if err == io.EOF && s.count%sectorSize != 0 {
		return n, fmt.Errorf("the data at %s is not a disk image: it is %d bytes, not a whole number of %d-byte sectors", s.url, s.count, sectorSize)
	}
	return n, err
}
