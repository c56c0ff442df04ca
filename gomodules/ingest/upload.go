package ingest

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/convert"
	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/glance"
	"github.com/imageops/cloud/gomodules/scratch"
)

// Provenance properties recorded on every image this package uploads
// (see package glance).
const (
	SourceURLProperty    = glance.SourceURLProperty
	SourceSHA256Property = glance.SourceSHA256Property
	SourceSHA512Property = glance.SourceSHA512Property
	SourceSizeProperty   = glance.SourceSizeProperty
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

// upload downloads the source and uploads it to Glance. A raw source (raw,
// iso, ami, a kernel or ramdisk) streams from the network to Glance when no
// conversion is asked for, its size bounded by max_virtual_size. Otherwise
// the source is staged in a private directory under workdir (see stage):
// verified with qemu-img when it has structure, and converted on its way to
// Glance where the target allows. It reports whether the data was
// converted, and where the time went in t.
func (e *Ensurer) upload(ctx context.Context, d desired, t *Timings) (*images.Image, bool, error) {
	began := time.Now()
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
	if size := src.Size(); !hasStructure(sourceFormat) && !src.Decompressed() && size > d.maxVirtualSize {
		// Known from Content-Length (or the file's size): refused before any image is created.
		return nil, false, fmt.Errorf("the data at %s is %d bytes, more than %d (max_virtual_size), the virtual size of a raw image being its size",
			fetch.RedactURL(d.SourceURL), size, d.maxVirtualSize)
	}
	keepHashes(src, sourceFormat == target)
	if sourceFormat == target && !hasStructure(sourceFormat) {
		image, err := e.streamUpload(ctx, d, target, src, began, t)
		return image, false, err
	}
	downloaded := &endTimer{r: bounded(d, sourceFormat, src), first: began}
	image, converted, err := e.stageAndUpload(ctx, d, sourceFormat, target, downloaded, src, t)
	t.Download = seconds(downloaded.span())
	return image, converted, err
}

// open starts the download of d's source, bounded by stagedSizeBound. It
// computes the SHA-512 until keepHashes says whether it is needed, and the
// digests of the checksums.
func (e *Ensurer) open(ctx context.Context, d desired) (*fetch.Source, error) {
	opts := append([]fetch.Option{fetch.WithChecksums(d.checksums...), fetch.WithDecompress(d.decompress),
		fetch.WithDiskFormat(d.SourceDiskFormat), fetch.WithMaxSize(stagedSizeBound(d.maxVirtualSize)),
		fetch.WithHashes(fetch.SHA512)}, e.fetch...)
	src, err := fetch.Open(ctx, d.SourceURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("downloading %q: %w", d.Name, d.explainBound(err))
	}
	return src, nil
}

// keepHashes computes each hash once, and only where needed: the SHA-512
// of bytes uploaded as they come checks them against Glance's
// os_hash_value (and is recorded, SourceSHA512Property); the source of a
// conversion is hashed only for its checksums, the bytes uploaded being
// hashed anyway. SHA-512 costs about 2.5 CPU seconds per GiB here: a second
// pass would cost more than the whole of the tools a conversion replaces.
func keepHashes(src *fetch.Source, uploadedAsTheyCome bool) {
	if !uploadedAsTheyCome {
		src.DropHashes(fetch.SHA512)
	}
}

// stagedSizeBound is the most bytes a source may hold once decompressed: a
// raw image is at most max_virtual_size bytes (rawChecked holds it to that),
// an image with structure a little more for its metadata (qcow2's tables
// take under 1/64 of the data even with 512-byte clusters).
func stagedSizeBound(maxVirtualSize int64) int64 {
	return maxVirtualSize + maxVirtualSize/8 + 1<<20
}

// explainBound names max_virtual_size in the error of a source past
// stagedSizeBound, where it comes from.
func (d desired) explainBound(err error) error {
	if errors.Is(err, fetch.ErrTooLarge) {
		return fmt.Errorf("%w; the bound is max_virtual_size (%d bytes) and 1/8 more for an image's metadata", err, d.maxVirtualSize)
	}
	return err
}

// bounded holds a raw source (whose virtual size is its size) to
// max_virtual_size and, for raw, to whole sectors; a source with structure
// is checked by convert.Verify instead.
func bounded(d desired, sourceFormat string, src *fetch.Source) io.Reader {
	if hasStructure(sourceFormat) {
		return src
	}
	checked := &rawChecked{r: src, url: fetch.RedactURL(d.SourceURL), max: d.maxVirtualSize, sectors: sourceFormat == "raw"}
	if src.Decompressed() {
		checked.compression = string(src.Compression())
	}
	return checked
}

// hasStructure tells whether a Glance disk format has metadata that qemu-img
// interprets (and that can name other files or claim any virtual size), so
// that a source in it must pass convert.Verify before it is used.
func hasStructure(format string) bool {
	switch format {
	case "qcow2", "vmdk", "vhdx", "vhd", "vdi", "ploop":
		return true
	}
	return false
}

// qemuFormat is qemu-img's name for a Glance disk format.
func qemuFormat(format string) string {
	if format == "ploop" {
		return "parallels"
	}
	return convert.CanonicalFormat(format)
}

// streamedSHA512 gives the SHA-512 of the bytes src returned, once read to
// its end: fetch computes it anyway, so no second pass over them.
func streamedSHA512(src *fetch.Source) func() string {
	return func() string { digests, _ := src.Digests(); return digests.SHA512 }
}

// streamUpload uploads the source as it streams, from first, opened at
// began; a retried upload downloads the source again.
func (e *Ensurer) streamUpload(ctx context.Context, d desired, diskFormat string, first *fetch.Source, began time.Time, t *Timings) (*images.Image, error) {
	last := first
	var sent *endTimer
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
		sent = &endTimer{r: bounded(d, diskFormat, src)}
		return &glance.Payload{Reader: sent, SHA512: streamedSHA512(src), Close: src.Close}, nil
	}
	image, err := e.glance.CreateAndUpload(ctx, glance.Upload{Create: d.createOpts(diskFormat), Open: open,
		Finish: func(*images.Image) images.UpdateOpts { return d.finalPatches(last) }})
	if sent != nil && !sent.ended.IsZero() {
		// The download is the upload: it ends with the source's last byte.
		t.Download = seconds(sent.ended.Sub(began))
		t.Upload, t.ReadBack = seconds(sent.span()), seconds(time.Since(sent.ended))
	}
	return image, err
}

// sourceFormatOf returns the source's disk format: the declared one after
// checking that the data agrees, or the detected one. Formats are never
// guessed from the file name. Errors never quote the data: it is untrusted.
func sourceFormatOf(d desired, header []byte) (string, error) {
	declared := d.SourceDiskFormat
	url := fetch.RedactURL(d.SourceURL)
	if isKernelOrRamdisk(declared) {
		if !fetch.KernelOrRamdisk(declared, header) {
			return "", fmt.Errorf("the data at %s is not a %s: %s needs %s; check source_url and disk_format",
				url, kernelOrRamdiskName(declared), declared, kernelOrRamdiskSignatures(declared))
		}
		return declared, nil
	}
	detected := fetch.DetectFormat(header)
	if other := fetch.OtherImageFormat(header); detected == fetch.FormatRaw && other != "" && !(declared == "ploop" && other == "parallels") {
		return "", fmt.Errorf("the data at %s is a %s image, not raw data, and Glance has no disk format for it; convert it to qcow2 or raw first", url, other)
	}
	if detected == fetch.FormatRaw && looksLikeText(header) {
		return "", fmt.Errorf("the data at %s is not a disk image: it starts with text (an error page, a checksum list?); check source_url", url)
	}
	switch {
	case declared == "":
		return detected, nil
	case declared != detected && (hasMagic(declared) || hasStructure(detected)):
		return "", fmt.Errorf("source_disk_format is %s but the data at %s is %s; correct source_disk_format or omit it to detect the format",
			declared, url, detected)
	}
	return declared, nil
}

func kernelOrRamdiskName(format string) string {
	if format == "aki" {
		return "kernel"
	}
	return "ramdisk"
}

// kernelOrRamdiskSignatures says what fetch.KernelOrRamdisk accepts.
func kernelOrRamdiskSignatures(format string) string {
	if format == "aki" {
		return "a Linux kernel (bzImage, ELF, arm64 or riscv Image, EFI/PE, U-Boot image), compressed or not"
	}
	return "an initramfs or initrd (cpio archive, ext2/3/4 file system, U-Boot image), compressed or not"
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

// workdirPrefix starts the name of a run's working directory in workdir.
const workdirPrefix = ".imageops-community-image-"

// reclaimWorkdirs removes the working directories that runs killed before
// they could remove them left in workdir (never those of a live run, see
// package scratch), and returns a warning for each.
func reclaimWorkdirs(workdir string) []string {
	removed, err := scratch.ReclaimDirs(workdir, workdirPrefix)
	if err != nil {
		return []string{err.Error()}
	}
	warnings := make([]string, len(removed))
	for i, dir := range removed {
		warnings[i] = fmt.Sprintf("removed %s, the working directory of an earlier run that was killed", dir)
	}
	return warnings
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
	properties := map[string]string{SourceURLProperty: fetch.RedactURL(d.SourceURL)}
	for key, value := range d.properties {
		properties[key] = value
	}
	opts := images.CreateOpts{Name: d.Name, DiskFormat: diskFormat, ContainerFormat: d.ContainerFormat,
		Tags: d.Tags, Properties: properties}
	if !d.newAtGlanceDefaultVisibility {
		visibility := images.ImageVisibility(d.Visibility)
		opts.Visibility = &visibility
	}
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
	// The size marks the image complete (glance.Complete); the hashes are
	// those computed (see keepHashes).
	patches := images.UpdateOpts{images.UpdateImageProperty{Op: images.AddOp, Name: SourceSizeProperty,
		Value: strconv.FormatInt(digests.RawSize, 10)}}
	for _, p := range []struct{ property, value string }{
		{SourceSHA512Property, digests.RawSHA512}, {SourceSHA256Property, digests.RawSHA256},
	} {
		if p.value != "" {
			patches = append(patches, images.UpdateImageProperty{Op: images.AddOp, Name: p.property, Value: p.value})
		}
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

// WriteTo hashes what the reader writes (its own WriteTo, when it has one)
// on its way to w.
func (h *hashingReader) WriteTo(w io.Writer) (int64, error) {
	return copyLarge(io.MultiWriter(h.h, w), h.r)
}

func (h *hashingReader) hex() string { return hex.EncodeToString(h.h.Sum(nil)) }

// rawChecked bounds a raw source, whose virtual size is its size: past max
// bytes it fails (max_virtual_size), and, for sectors, a size that is not a
// whole number of sectors fails at the end instead of returning io.EOF (such
// a file is not a virtual disk), so that an upload of it is aborted.
type rawChecked struct {
	r           io.Reader
	compression string // the compression undone on the way, if any
	url         string
	max         int64
	sectors     bool
	count       int64
}

func (s *rawChecked) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.count += int64(n)
	if s.count > s.max {
		what := "is"
		if s.compression != "" {
			what = "decompresses (" + s.compression + ") to"
		}
		return 0, fmt.Errorf("the data at %s %s more than %d bytes (max_virtual_size), the virtual size of a raw image being its size", s.url, what, s.max)
	}
	if err == io.EOF && s.sectors && s.count%sectorSize != 0 {
		return n, fmt.Errorf("the data at %s is not a disk image: it is %d bytes, not a whole number of %d-byte sectors", s.url, s.count, sectorSize)
	}
	return n, err
}
