package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	json "github.com/goccy/go-json"
)

// mappedChunk is the most bytes mappedReader.WriteTo hands its writer at a
// time: few writes (one chunk each in an upload), and little memory.
const mappedChunk = 1 << 20

// mappedZeros is what mappedReader writes for a run of zeros.
var mappedZeros = make([]byte, mappedChunk)

// extent is one run of a virtual disk: zeros, or the bytes of the image
// file at offset, as `qemu-img map --output=json` reports it.
type extent struct {
	start, length int64
	zero          bool
	offset        int64 // where the run's bytes are in the file; unused for zeros
}

// mapEntry is one entry of `qemu-img map --output=json` (QEMU's
// docs/tools/qemu-img.rst, "map"): offset is present for data stored
// uncompressed, unencrypted, in the image file or its data file.
type mapEntry struct {
	Start  int64  `json:"start"`
	Length int64  `json:"length"`
	Depth  int    `json:"depth"`
	Zero   bool   `json:"zero"`
	Data   bool   `json:"data"`
	Offset *int64 `json:"offset"`
}

// mapQcow2 returns where the virtual disk of the qcow2 image at abs lies:
// runs of data in the file, where qemu-img map places them, and runs of
// zeros, so that RawImage.Stream reads the data clusters from the file
// itself: no qemu-nbd, no copy of every byte through a socket. qemu-img
// parses the image; the reader only copies the bytes it points at. ok is
// false, with no error, whenever this way does not apply: some data has no
// place in the file (compressed clusters), the image names other files, or
// qemu-img fails on it; the caller then streams through qemu-nbd, which says
// what is wrong if anything is. qemu-img info is not run again when
// WithInfo gave the image's Info.
func mapQcow2(ctx context.Context, o *options, abs string) (_ []extent, virtualSize int64, ok bool, err error) {
	qemuImg, err := o.lookQemuImg()
	if err != nil {
		return nil, 0, false, nil
	}
	info, err := o.infoOf(ctx, qemuImg, abs, "qcow2")
	if err != nil || info.BackingFile != "" || len(info.ExternalFiles) > 0 || info.Encrypted {
		return nil, 0, false, ctx.Err()
	}
	out, err := runQemuImg(ctx, qemuImg, "map", "--output=json", "-f", "qcow2", abs)
	if err != nil {
		return nil, 0, false, ctx.Err()
	}
	var entries []mapEntry
	if err := json.Unmarshal(out, &entries); err != nil {
		return nil, 0, false, nil
	}
	extents, ok := extentsOf(entries, info.VirtualSize)
	if !ok {
		return nil, 0, false, nil
	}
	return extents, info.VirtualSize, true, nil
}

// extentsOf turns qemu-img map's entries into extents, or returns false
// when they do not describe the whole disk, in order, as zeros and data in
// the image file itself.
func extentsOf(entries []mapEntry, virtualSize int64) ([]extent, bool) {
	extents := make([]extent, 0, len(entries))
	var at int64
	for _, e := range entries {
		if e.Start != at || e.Length <= 0 || e.Depth != 0 {
			return nil, false
		}
		switch {
		case e.Zero: // reads as zeros, whatever the file holds there (a zero cluster may keep its host cluster)
			extents = append(extents, extent{start: e.Start, length: e.Length, zero: true})
		case e.Data && e.Offset != nil && *e.Offset >= 0:
			extents = append(extents, extent{start: e.Start, length: e.Length, offset: *e.Offset})
		default: // compressed or encrypted data, or data read from elsewhere
			return nil, false
		}
		at += e.Length
	}
	return extents, at == virtualSize
}

// mappedReader reads a virtual disk from its extents, in order.
type mappedReader struct {
	ctx     context.Context // when it ends, reads fail
	file    *os.File
	extents []extent
	next    int   // the extent being read
	done    int64 // bytes of it already read
}

// Read reads the disk's next bytes.
func (r *mappedReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	e, ok := r.current()
	if !ok {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), e.length-r.done))
	if e.zero {
		clear(p[:n])
	} else if err := r.readAt(p[:n], e); err != nil {
		return 0, err
	}
	r.done += int64(n)
	return n, nil
}

// WriteTo writes the rest of the disk to w, up to mappedChunk bytes a
// write, zeros from a shared buffer: no copy of a run of zeros.
func (r *mappedReader) WriteTo(w io.Writer) (int64, error) {
	var buf []byte
	var written int64
	for {
		if err := r.ctx.Err(); err != nil {
			return written, err
		}
		e, ok := r.current()
		if !ok {
			return written, nil
		}
		n := min(mappedChunk, e.length-r.done)
		chunk := mappedZeros[:n]
		if !e.zero {
			if buf == nil {
				buf = make([]byte, mappedChunk)
			}
			chunk = buf[:n]
			if err := r.readAt(chunk, e); err != nil {
				return written, err
			}
		}
		m, err := w.Write(chunk)
		written += int64(m)
		r.done += int64(m)
		if err != nil {
			return written, err
		}
	}
}

// current returns the extent to read from, past those read.
func (r *mappedReader) current() (extent, bool) {
	for r.next < len(r.extents) && r.done == r.extents[r.next].length {
		r.next, r.done = r.next+1, 0
	}
	if r.next == len(r.extents) {
		return extent{}, false
	}
	return r.extents[r.next], true
}

// readAt fills p with e's bytes from r.done on.
func (r *mappedReader) readAt(p []byte, e extent) error {
	at := e.offset + r.done
	if _, err := r.file.ReadAt(p, at); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("reading %d bytes of the disk at offset %d from %q at %d: %w", len(p), e.start+r.done, r.file.Name(), at, err)
	}
	return nil
}

func (r *mappedReader) chunked() {}
