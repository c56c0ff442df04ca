package convert

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// The qcow2 image this package writes itself (QEMU's docs/interop/qcow2.txt):
// version 3, 64 KiB clusters, 16-bit refcounts, no backing file, no
// encryption, no compression, no snapshots, no header extensions.
const (
	qcow2Magic         = 0x514649fb // "QFI\xfb"
	qcow2Version       = 3
	qcow2ClusterBits   = 16
	qcow2ClusterSize   = 1 << qcow2ClusterBits
	qcow2RefcountOrder = 4 // 2^4 = 16-bit refcounts
	qcow2HeaderLength  = 104
	// qcow2Copied is QCOW_OFLAG_COPIED: set in an L1 or L2 entry whose
	// cluster's refcount is exactly one, as every cluster here is.
	qcow2Copied = 1 << 63
	// qcow2L2Entries is the number of 8-byte entries in one L2 table, and
	// qcow2RefcountEntries the number of 2-byte refcounts in one block.
	qcow2L2Entries       = qcow2ClusterSize / 8
	qcow2RefcountEntries = qcow2ClusterSize / 2
)

// zeroCluster is compared with each cluster to leave zero clusters out.
var zeroCluster = make([]byte, qcow2ClusterSize)

// Qcow2Writer turns a raw disk, written to it in order, into a qcow2 image
// that Stream then reads from its start to its end: the image's metadata,
// computed in memory, then the disk's clusters that are not all zeros, which
// Write keeps in a file in the order they came. No cluster is read twice and
// nothing is written at an offset already passed, so the image can be
// uploaded as it is read, with its size known in advance. Clusters of zeros
// take no space: they read as zeros in qcow2 without a backing file, as
// with qemu-img convert -O qcow2.
//
// The image is qcow2 version 3 with 64 KiB clusters (qemu-img's defaults),
// every cluster's refcount 1, metadata first: header, refcount table,
// refcount blocks, L1 table, L2 tables, then data. qemu-img check finds it
// consistent; it is not byte for byte what qemu-img writes.
//
// A Qcow2Writer is not safe for concurrent use.
type Qcow2Writer struct {
	file      *os.File
	out       *bufio.Writer
	allocated []bool // per guest cluster: holds data (is in file)
	nData     int64  // clusters in file
	pending   []byte // the current cluster, not yet full
	size      int64  // bytes written: the virtual size
	err       error  // sticky
	meta      []byte // the metadata, once finished
	closed    bool
}

// NewQcow2Writer returns a writer that keeps the data clusters in a new
// temporary file in dir, removed by Close.
func NewQcow2Writer(dir string) (*Qcow2Writer, error) {
	file, err := os.CreateTemp(dir, ".imageops-qcow2-*.data")
	if err != nil {
		return nil, fmt.Errorf("creating the data file of a qcow2 image in %q: %w", dir, err)
	}
	return &Qcow2Writer{file: file, out: bufio.NewWriterSize(file, 1<<20), pending: make([]byte, 0, qcow2ClusterSize)}, nil
}

// Write takes the raw disk's next bytes.
func (w *Qcow2Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.meta != nil || w.closed {
		return 0, errors.New("writing a qcow2 image that is already finished")
	}
	n := len(p)
	w.size += int64(n)
	for len(p) > 0 {
		if len(w.pending) == 0 && len(p) >= qcow2ClusterSize {
			w.cluster(p[:qcow2ClusterSize])
			p = p[qcow2ClusterSize:]
			continue
		}
		k := copy(w.pending[len(w.pending):qcow2ClusterSize], p)
		w.pending = w.pending[:len(w.pending)+k]
		p = p[k:]
		if len(w.pending) == qcow2ClusterSize {
			w.cluster(w.pending)
			w.pending = w.pending[:0]
		}
	}
	if w.err != nil {
		return 0, w.err
	}
	return n, nil
}

// cluster stores one full cluster of the guest disk.
func (w *Qcow2Writer) cluster(c []byte) {
	if w.err != nil {
		return
	}
	data := !bytes.Equal(c, zeroCluster)
	w.allocated = append(w.allocated, data)
	if data {
		if _, err := w.out.Write(c); err != nil {
			w.err = fmt.Errorf("writing %q: %w", w.file.Name(), err)
		}
		w.nData++
	}
}

// Size returns the number of bytes written so far: the image's virtual
// size once the raw disk is complete.
func (w *Qcow2Writer) Size() int64 { return w.size }

// Close removes the data file; every Stream must be closed before. It is
// safe to call more than once.
func (w *Qcow2Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.file.Close()
	if err := os.Remove(w.file.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %q: %w", w.file.Name(), err)
	}
	return nil
}

// Stream returns the image from its start: metadata, then data clusters.
// The first call finishes the image, whose virtual size must then be a whole
// number of 512-byte sectors; each call returns a new Stream (to upload the
// image again after a failed try). Closing a Stream leaves the data file for
// the next; Close removes it.
func (w *Qcow2Writer) Stream() (*Stream, error) {
	if w.meta == nil {
		if err := w.finish(); err != nil {
			w.err = err
			return nil, err
		}
	}
	if w.closed {
		return nil, errors.New("reading a qcow2 image whose data file was removed")
	}
	data, err := os.Open(w.file.Name())
	if err != nil {
		return nil, fmt.Errorf("opening the data of the qcow2 image: %w", err)
	}
	return &Stream{
		r:     io.MultiReader(bytes.NewReader(w.meta), data),
		size:  int64(len(w.meta)) + w.nData*qcow2ClusterSize,
		close: data.Close,
	}, nil
}

// finish writes the last cluster, flushes the data file and computes the
// metadata.
func (w *Qcow2Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	if w.size == 0 || w.size%sectorSize != 0 {
		return fmt.Errorf("a disk of %d bytes cannot be a qcow2 image: expected a positive whole number of %d-byte sectors", w.size, sectorSize)
	}
	if len(w.pending) > 0 {
		w.cluster(append(w.pending, zeroCluster[len(w.pending):]...))
		w.pending = w.pending[:0]
	}
	if w.err != nil {
		return w.err
	}
	if err := w.out.Flush(); err != nil {
		return fmt.Errorf("writing %q: %w", w.file.Name(), err)
	}
	w.meta = qcow2Metadata(w.size, w.allocated, w.nData)
	return nil
}

// qcow2Layout places the metadata of an image: in clusters, where each part
// starts and how long it is.
type qcow2Layout struct {
	refcountTable, refcountTableLen int64
	refcountBlocks, refcountBlocksN int64
	l1, l1Len, l1Entries            int64
	l2, l2N                         int64
	data                            int64
}

func layoutQcow2(virtualSize int64, allocated []bool, nData int64) qcow2Layout {
	clusters := int64(len(allocated))
	l := qcow2Layout{l1Entries: ceilDiv(clusters, qcow2L2Entries)}
	l.l1Len = max(1, ceilDiv(l.l1Entries*8, qcow2ClusterSize))
	for i := int64(0); i < l.l1Entries; i++ {
		if anyTrue(allocated[i*qcow2L2Entries : min(clusters, (i+1)*qcow2L2Entries)]) {
			l.l2N++
		}
	}
	// The refcount blocks count themselves and the table that lists them.
	l.refcountBlocksN, l.refcountTableLen = 1, 1
	for {
		total := 1 + l.refcountTableLen + l.refcountBlocksN + l.l1Len + l.l2N + nData
		blocks := ceilDiv(total, qcow2RefcountEntries)
		table := ceilDiv(blocks*8, qcow2ClusterSize)
		if blocks == l.refcountBlocksN && table == l.refcountTableLen {
			break
		}
		l.refcountBlocksN, l.refcountTableLen = max(blocks, l.refcountBlocksN), max(table, l.refcountTableLen)
	}
	l.refcountTable = 1
	l.refcountBlocks = l.refcountTable + l.refcountTableLen
	l.l1 = l.refcountBlocks + l.refcountBlocksN
	l.l2 = l.l1 + l.l1Len
	l.data = l.l2 + l.l2N
	return l
}

// qcow2Metadata renders everything before the data clusters.
func qcow2Metadata(virtualSize int64, allocated []bool, nData int64) []byte {
	l := layoutQcow2(virtualSize, allocated, nData)
	meta := make([]byte, l.data*qcow2ClusterSize)
	be := binary.BigEndian
	at := func(cluster int64) int64 { return cluster * qcow2ClusterSize }

	h := meta[:qcow2HeaderLength]
	be.PutUint32(h[0:], qcow2Magic)
	be.PutUint32(h[4:], qcow2Version)
	// 8: backing_file_offset, 16: backing_file_size: none.
	be.PutUint32(h[20:], qcow2ClusterBits)
	be.PutUint64(h[24:], uint64(virtualSize))
	// 32: crypt_method: none.
	be.PutUint32(h[36:], uint32(l.l1Entries))
	be.PutUint64(h[40:], uint64(at(l.l1)))
	be.PutUint64(h[48:], uint64(at(l.refcountTable)))
	be.PutUint32(h[56:], uint32(l.refcountTableLen))
	// 60: nb_snapshots, 64: snapshots_offset, 72-95: feature bits: none.
	be.PutUint32(h[96:], qcow2RefcountOrder)
	be.PutUint32(h[100:], qcow2HeaderLength)

	total := l.data + nData
	for b := int64(0); b < l.refcountBlocksN; b++ {
		be.PutUint64(meta[at(l.refcountTable)+8*b:], uint64(at(l.refcountBlocks+b)))
	}
	for c := int64(0); c < total; c++ {
		be.PutUint16(meta[at(l.refcountBlocks)+2*c:], 1)
	}

	clusters := int64(len(allocated))
	l2, data := l.l2, l.data
	for i := int64(0); i < l.l1Entries; i++ {
		part := allocated[i*qcow2L2Entries : min(clusters, (i+1)*qcow2L2Entries)]
		if !anyTrue(part) {
			continue
		}
		be.PutUint64(meta[at(l.l1)+8*i:], uint64(at(l2))|qcow2Copied)
		for j, used := range part {
			if used {
				be.PutUint64(meta[at(l2)+8*int64(j):], uint64(at(data))|qcow2Copied)
				data++
			}
		}
		l2++
	}
	return meta
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func anyTrue(list []bool) bool {
	for _, v := range list {
		if v {
			return true
		}
	}
	return false
}
