package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/convert"
	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/glance"
	"github.com/imageops/cloud/gomodules/scratch"
)

// Timings says where the time of an upload went, in seconds (to the
// millisecond). Stages that run at the same time overlap: a source in the
// target format is downloaded while it is uploaded, and a conversion to raw
// runs while its output is uploaded, so the stages may add up to more than
// the run took.
type Timings struct {
	// Download is from the request for the source to its last byte, with
	// its checksums computed on the way.
	Download float64 `json:"download"`
	// Verify is the inspection of a downloaded image with structure before
	// it is used (convert.Verify: qemu-img info and check).
	Verify float64 `json:"verify"`
	// Convert is the conversion: the image read as raw (convert.StreamRaw)
	// while it is uploaded, writing qcow2 clusters while the source
	// downloads, or qemu-img convert for the other formats.
	Convert float64 `json:"convert"`
	// Upload is from the first byte sent to Glance to the last.
	Upload float64 `json:"upload"`
	// ReadBack is from the last byte sent to the image found active with
	// the bytes sent (os_hash_value) and its provenance recorded: Glance's
	// answer to the upload, the read-back, the final update.
	ReadBack float64 `json:"read_back"`
}

func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// endTimer records when a reader first ended (io.EOF or an error), and
// when it was first read.
type endTimer struct {
	r            io.Reader
	first, ended time.Time
}

func (t *endTimer) Read(p []byte) (int, error) {
	if t.first.IsZero() {
		t.first = time.Now()
	}
	n, err := t.r.Read(p)
	if err != nil && t.ended.IsZero() {
		t.ended = time.Now()
	}
	return n, err
}

// WriteTo passes the reader's own WriteTo on (see convert.Stream.WriteTo),
// so that an upload's bytes are not copied once more on their way.
func (t *endTimer) WriteTo(w io.Writer) (int64, error) {
	if t.first.IsZero() {
		t.first = time.Now()
	}
	n, err := copyLarge(w, t.r)
	if t.ended.IsZero() {
		t.ended = time.Now()
	}
	return n, err
}

// copyChunk is the buffer of a copy from a reader that cannot write its
// data itself to a writer that cannot read it: big enough that an
// upload's chunks are few.
const copyChunk = 1 << 20

// copyLarge copies r to w as io.Copy does, through a buffer of copyChunk
// bytes when neither side moves the data itself.
func copyLarge(w io.Writer, r io.Reader) (int64, error) {
	return io.CopyBuffer(w, r, make([]byte, copyChunk))
}

// copyWhole copies r to w in writes of copyChunk bytes, the last one
// shorter, whatever sizes r returns: a Qcow2Writer then checks whole
// clusters where they are instead of gathering them first.
func copyWhole(w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, copyChunk)
	var written int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			written += int64(m)
			if werr != nil {
				return written, werr
			}
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return written, nil
		default:
			return written, err
		}
	}
}

// span is the time from first to ended, or 0 when either is unknown.
func (t *endTimer) span() time.Duration {
	if t.first.IsZero() || t.ended.IsZero() {
		return 0
	}
	return t.ended.Sub(t.first)
}

// staged is a source made ready, in a private working directory, for an
// upload in the target format: open returns the image to upload from its
// start, again for each try of an upload; close removes what staging made.
type staged struct {
	open  func(ctx context.Context) (*convert.Stream, error)
	close func() error
	// sha512 gives the SHA-512 of the staged bytes when fetch computed it
	// (they are the source's); nil when the upload must hash them.
	sha512 func() string
	// duringUpload tells that the conversion happens as the stream is read:
	// it takes as long as the upload, after prepared (finding where the
	// data lies, checking what the disk holds).
	duringUpload bool
	prepared     time.Duration
}

// stage reads data (the source, decompressed, bounded) to its end, so that
// its checksums are verified before anything is uploaded, into dir, in the
// form the upload of target needs:
//
//   - raw to qcow2: a convert.Qcow2Writer keeps the clusters that are not
//     all zeros as they arrive; the image is then read out in one pass, with
//     no conversion step between the download and the upload;
//   - a source with structure is written as it comes and checked
//     (convert.Verify: no backing or external file, not encrypted, within
//     max_virtual_size, consistent), then: uploaded as it is when target is
//     its own format; for raw (from qcow2, vmdk, vhdx, vhd, vdi), served
//     read in order while it is uploaded (convert.StreamRaw: a qcow2's
//     data clusters from the file, anything else through qemu-nbd), with no
//     converted copy on disk;
//   - any other pair is converted by qemu-img into dir, and the converted
//     file uploaded.
func (e *Ensurer) stage(ctx context.Context, d desired, dir, sourceFormat, target string, data io.Reader, src *fetch.Source, t *Timings) (*staged, error) {
	if sourceFormat == "raw" && target == "qcow2" {
		return stageQcow2(d, dir, data, t)
	}
	downloaded := filepath.Join(dir, "source."+sourceFormat)
	if err := writeFile(downloaded, data); err != nil {
		return nil, fmt.Errorf("downloading %s for %q: %w", fetch.RedactURL(d.SourceURL), d.Name, d.explainBound(err))
	}
	var info convert.Info
	if hasStructure(sourceFormat) {
		began := time.Now()
		var err error
		if info, err = convert.Verify(ctx, downloaded, qemuFormat(sourceFormat), d.maxVirtualSize, e.convert...); err != nil {
			return nil, fmt.Errorf("checking %q from %s before its upload: %w", d.Name, fetch.RedactURL(d.SourceURL), err)
		}
		t.Verify = seconds(time.Since(began))
	}
	switch {
	case sourceFormat == target:
		return stagedFile(d, downloaded, streamedSHA512(src)), nil
	case target == "raw" && servedAsRaw(sourceFormat):
		began := time.Now()
		image, err := e.servedAsRaw(ctx, d, downloaded, sourceFormat, info)
		if err != nil {
			return nil, err
		}
		if err := checkRawContent(ctx, d, sourceFormat, image); err != nil {
			return nil, err
		}
		image.prepared = time.Since(began)
		return image, nil
	}
	began := time.Now()
	converted := filepath.Join(dir, "converted."+target)
	request := convert.Request{Src: downloaded, Dest: converted, SrcFormat: qemuFormat(sourceFormat), DestFormat: target}
	// The converted file is read and deleted: it need not reach the disk.
	options := []convert.Option{convert.WithoutSync()}
	if hasStructure(sourceFormat) {
		options = append(options, convert.SourceVerified()) // checked above
	}
	if _, err := convert.Convert(ctx, request, append(options, e.convert...)...); err != nil {
		return nil, fmt.Errorf("converting %q from %s to %s: %w", d.Name, sourceFormat, target, err)
	}
	t.Convert = seconds(time.Since(began))
	_ = os.Remove(downloaded) // free the space before the upload
	return stagedFile(d, converted, nil), nil
}

// checkRawContent reads the first bytes of what a conversion to raw gives
// and refuses a disk image in a format with structure: a guest disk that
// holds, say, a qcow2 naming a backing or data file would reach Glance as
// raw, where a hypervisor or tool that probes formats reads what it names
// (OSSA-2024-001), and Glance since 2024.2 refuses such an upload itself.
// It runs before any image is created.
func checkRawContent(ctx context.Context, d desired, sourceFormat string, image *staged) error {
	stream, err := image.open(ctx)
	if err != nil {
		return err
	}
	defer stream.Close()
	header := make([]byte, fetch.FormatHeaderLen)
	n, err := io.ReadFull(stream, header)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("converting %q from %s to raw: %w", d.Name, sourceFormat, err)
	}
	header = header[:n]
	inner := fetch.DetectFormat(header)
	if inner == fetch.FormatRaw {
		inner = fetch.OtherImageFormat(header)
	}
	if inner != "" && inner != fetch.FormatISO {
		return fmt.Errorf("checking %q from %s before its upload: the %s image's disk holds a %s image, which would reach Glance as raw; "+
			"convert the inner image itself", d.Name, fetch.RedactURL(d.SourceURL), sourceFormat, inner)
	}
	return nil
}

// servedAsRaw tells whether a Glance disk format is read as raw by
// convert.StreamRaw: the formats with structure that qemu-nbd reads.
func servedAsRaw(format string) bool {
	switch format {
	case "qcow2", "vmdk", "vhdx", "vhd", "vdi":
		return true
	}
	return false
}

// stagedFile uploads a file of dir as it is.
func stagedFile(d desired, path string, sha512 func() string) *staged {
	return &staged{
		open: func(context.Context) (*convert.Stream, error) {
			stream, err := convert.OpenFile(path)
			if err != nil {
				return nil, fmt.Errorf("opening the staged image of %q: %w", d.Name, err)
			}
			return stream, nil
		},
		close:  func() error { return nil },
		sha512: sha512,
	}
}

// servedAsRaw streams an image that passed Verify, with info, as raw
// (convert.OpenRaw): inspected once, read as often as needed (the header
// check, the upload and its retries) with no further qemu-img run.
func (e *Ensurer) servedAsRaw(ctx context.Context, d desired, path, sourceFormat string, info convert.Info) (*staged, error) {
	raw, err := convert.OpenRaw(ctx, path, qemuFormat(sourceFormat), append([]convert.Option{convert.WithInfo(info)}, e.convert...)...)
	if err != nil {
		return nil, fmt.Errorf("converting %q from %s to raw: %w", d.Name, sourceFormat, err)
	}
	return &staged{
		open: func(ctx context.Context) (*convert.Stream, error) {
			stream, err := raw.Stream(ctx)
			if err != nil {
				return nil, fmt.Errorf("converting %q from %s to raw: %w", d.Name, sourceFormat, err)
			}
			return stream, nil
		},
		close:        func() error { return nil },
		duringUpload: true,
	}, nil
}

// stageQcow2 writes a raw source into a convert.Qcow2Writer as it downloads.
func stageQcow2(d desired, dir string, data io.Reader, t *Timings) (*staged, error) {
	w, err := convert.NewQcow2Writer(dir)
	if err != nil {
		return nil, err
	}
	timed := &timedWriter{w: w}
	if _, err := copyWhole(timed, data); err != nil {
		return nil, errors.Join(fmt.Errorf("downloading %s for %q: %w", fetch.RedactURL(d.SourceURL), d.Name, d.explainBound(err)), w.Close())
	}
	return &staged{
		open: func(context.Context) (*convert.Stream, error) {
			start := time.Now()
			stream, err := w.Stream()
			timed.spent += time.Since(start)
			t.Convert = seconds(timed.spent)
			if err != nil {
				return nil, fmt.Errorf("converting %q from raw to qcow2: %w", d.Name, err)
			}
			return stream, nil
		},
		close: w.Close,
	}, nil
}

// timedWriter adds up the time spent in its writer's Write.
type timedWriter struct {
	w     io.Writer
	spent time.Duration
}

func (t *timedWriter) Write(p []byte) (int, error) {
	start := time.Now()
	n, err := t.w.Write(p)
	t.spent += time.Since(start)
	return n, err
}

// stageAndUpload stages the source in a private directory under workdir
// (see stage) and uploads it, hashing the bytes sent unless fetch did, to
// check them against Glance's os_hash_value; every try of the upload reads
// the staged image again. The directory is removed whatever happens. It
// reports whether the data was converted.
func (e *Ensurer) stageAndUpload(ctx context.Context, d desired, sourceFormat, target string, data io.Reader, src *fetch.Source, t *Timings) (*images.Image, bool, error) {
	work, err := scratch.MkdirLocked(d.Workdir, workdirPrefix)
	if err != nil {
		return nil, false, fmt.Errorf("creating a working directory for %q in %q (workdir): %w", d.Name, d.Workdir, err)
	}
	defer work.Remove()
	dir := work.Path
	image, err := e.stage(ctx, d, dir, sourceFormat, target, data, src, t)
	if err != nil {
		return nil, false, err
	}
	defer image.close()
	var sent *endTimer
	open := func(ctx context.Context) (*glance.Payload, error) {
		stream, err := image.open(ctx)
		if err != nil {
			return nil, err
		}
		if image.sha512 != nil {
			sent = &endTimer{r: stream}
			return &glance.Payload{Reader: sent, SHA512: image.sha512, Close: stream.Close}, nil
		}
		hashed := newHashingReader(stream)
		sent = &endTimer{r: hashed}
		return &glance.Payload{Reader: sent, SHA512: hashed.hex, Close: stream.Close}, nil
	}
	uploaded, err := e.glance.CreateAndUpload(ctx, glance.Upload{Create: d.createOpts(target), Open: open,
		Finish: func(*images.Image) images.UpdateOpts { return d.finalPatches(src) }})
	if sent != nil {
		t.Upload, t.ReadBack = seconds(sent.span()), seconds(since(sent.ended))
		if image.duringUpload {
			t.Convert = seconds(image.prepared + sent.span())
		}
	}
	return uploaded, sourceFormat != target, err
}

// since is the time from a moment to now, or 0 when it is unknown.
func since(moment time.Time) time.Duration {
	if moment.IsZero() {
		return 0
	}
	return time.Since(moment)
}
