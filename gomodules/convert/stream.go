package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/imageops/cloud/gomodules/scratch"
)

// ErrQemuNBDNotFound is matched (errors.Is) by StreamRaw's error when the
// qemu-nbd program cannot be found.
var ErrQemuNBDNotFound = errors.New("qemu-nbd not found")

const (
	// nbdStartTimeout bounds how long qemu-nbd may take to listen.
	nbdStartTimeout = 30 * time.Second
	// nbdPollInterval is how often StreamRaw tries qemu-nbd's socket while
	// it starts.
	nbdPollInterval = 5 * time.Millisecond
	// nbdExitTimeout bounds how long qemu-nbd may take to exit once its
	// client left, before it is killed.
	nbdExitTimeout = 5 * time.Second
)

// Stream is a converted image, read once from its start to its end. Its
// size is known before the first byte is read, so that an upload can
// announce it (Content-Length). It is not safe for concurrent use.
type Stream struct {
	r     io.Reader
	size  int64
	read  int64
	close func() error
}

// Read reads the converted image's next bytes; io.EOF comes only after
// exactly Size bytes.
func (s *Stream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.read += int64(n)
	if err == io.EOF && s.read != s.size {
		return n, fmt.Errorf("the converted image ended after %d bytes, expected %d", s.read, s.size)
	}
	return n, err
}

// WriteTo writes the rest of the converted image to w (io.Copy calls it),
// in writes of up to a few MiB: where the image is read from a file, or
// from qemu-nbd's replies, with no copy through a buffer of io.Copy's; and
// in an upload, few chunks. It fails as Read does.
func (s *Stream) WriteTo(w io.Writer) (int64, error) {
	var n int64
	var err error
	if wt, ok := s.r.(chunkWriterTo); ok {
		n, err = wt.WriteTo(w)
	} else {
		n, err = io.CopyBuffer(w, struct{ io.Reader }{s.r}, make([]byte, copyChunk))
	}
	s.read += n
	if err == nil && s.read != s.size {
		err = fmt.Errorf("the converted image ended after %d bytes, expected %d", s.read, s.size)
	}
	return n, err
}

// chunkWriterTo is a reader of this package that writes its data itself
// (mappedReader, nbdReader).
type chunkWriterTo interface {
	io.Reader
	io.WriterTo
	chunked()
}

// copyChunk is the buffer of Stream.WriteTo over other readers (files).
const copyChunk = 1 << 20

// Size returns the number of bytes Read returns in all.
func (s *Stream) Size() int64 { return s.size }

// Close releases what the stream holds (a qemu-nbd process, files); it is
// safe to call more than once.
func (s *Stream) Close() error {
	if s.close == nil {
		return nil
	}
	close := s.close
	s.close = nil
	return close()
}

// OpenFile returns the image in the file at path as a Stream, of the
// file's size; Close closes the file.
func OpenFile(path string) (*Stream, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	stat, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	return &Stream{r: file, size: stat.Size(), close: file.Close}, nil
}

// StreamRaw returns the virtual disk of the image at path, in format
// (qemu-img's name: qcow2, vmdk, vhdx, vpc, vdi, ...), as raw bytes read in
// order, with no converted copy on disk: OpenRaw then RawImage.Stream, for
// one reading. Errors match ErrQemuNBDNotFound when qemu-nbd is missing.
func StreamRaw(ctx context.Context, path, format string, opts ...Option) (*Stream, error) {
	image, err := OpenRaw(ctx, path, format, opts...)
	if err != nil {
		return nil, err
	}
	return image.Stream(ctx)
}

// RawImage is an image made ready to be read as its raw virtual disk, as
// often as needed (a header check, then an upload and its retries), by
// OpenRaw: the image is inspected once, and each Stream reads it with no
// further qemu-img run.
type RawImage struct {
	abs, format string
	// extents is where a qcow2 image's data lies in its own file, when
	// all of it does; nil: the image is read through qemu-nbd.
	extents     []extent
	virtualSize int64
	qemuNBD     string
}

// OpenRaw makes the image at path, in format (qemu-img's name), ready to be
// read as raw bytes in order (RawImage.Stream). A qcow2 image whose data
// all lies uncompressed in its file is read from the file where `qemu-img
// map` places each run of data, with zeros for the rest: no other process,
// no copy through a socket. Otherwise qemu-nbd serves the image read-only
// on a Unix socket in a private directory under os.TempDir, and the Stream
// reads it over NBD, a few reads ahead. WithInfo spares a qcow2 its
// qemu-img info when Verify already ran it.
//
// path is handed to qemu-img and qemu-nbd as it is: check an image from
// elsewhere with Verify first (no backing file, no external data file, a
// bounded virtual size, consistent metadata). Errors match
// ErrQemuNBDNotFound when qemu-nbd would be needed and is missing.
func OpenRaw(ctx context.Context, path, format string, opts ...Option) (*RawImage, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("serving %q: %w", path, err)
	}
	image := &RawImage{abs: abs, format: CanonicalFormat(format)}
	if image.format == "qcow2" {
		extents, size, ok, err := mapQcow2(ctx, o, abs)
		if err != nil {
			return nil, err
		}
		if ok {
			image.extents, image.virtualSize = extents, size
			return image, nil
		}
	}
	if image.qemuNBD, err = exec.LookPath(o.qemuNBD); err != nil {
		return nil, fmt.Errorf("%w (%q): install qemu-utils (Debian, Ubuntu) or qemu-img (Fedora, RHEL)", ErrQemuNBDNotFound, o.qemuNBD)
	}
	return image, nil
}

// Stream returns the image's virtual disk from its start; each call a new
// reading. Size is the virtual size. When ctx ends, qemu-nbd (if any) is
// killed and Read fails. Close stops qemu-nbd, if any, and removes its
// socket's directory.
func (r *RawImage) Stream(ctx context.Context) (*Stream, error) {
	if r.extents != nil {
		file, err := os.Open(r.abs)
		if err != nil {
			return nil, fmt.Errorf("opening %q: %w", r.abs, err)
		}
		reader := &mappedReader{ctx: ctx, file: file, extents: r.extents}
		return &Stream{r: reader, size: r.virtualSize, close: file.Close}, nil
	}
	server, err := startNBD(ctx, r.qemuNBD, r.abs, r.format)
	if err != nil {
		return nil, err
	}
	reader, err := dialNBD(server.conn)
	if err != nil {
		// qemu-nbd may listen before it opens the image: its own message
		// says why it hung up.
		stopErr := server.stop()
		if said := server.said(); said != "" {
			err = fmt.Errorf("%w; qemu-nbd said: %s", err, said)
		}
		return nil, errors.Join(fmt.Errorf("serving %q (%s) with qemu-nbd: %w", r.abs, r.format, err), stopErr)
	}
	return &Stream{r: reader, size: reader.Size(), close: func() error {
		return errors.Join(reader.Close(), server.stop())
	}}, nil
}

// nbdServer is a running qemu-nbd and the connection to it.
type nbdServer struct {
	cmd    *exec.Cmd
	dir    *scratch.Dir
	conn   net.Conn
	stderr *bytes.Buffer
	exited chan struct{}
	once   sync.Once
	err    error
}

// nbdDirPrefix starts the name of the directory of qemu-nbd's socket.
const nbdDirPrefix = "imageops-nbd-"

// startNBD starts qemu-nbd on abs and connects to it.
func startNBD(ctx context.Context, qemuNBD, abs, format string) (*nbdServer, error) {
	// A short directory: a Unix socket's path is limited to 107 bytes.
	// Locked, so that the directories of killed runs can be told from those
	// of live ones and removed (see package scratch).
	_, _ = scratch.ReclaimDirs("", nbdDirPrefix)
	dir, err := scratch.MkdirLocked("", nbdDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating a directory for qemu-nbd's socket: %w", err)
	}
	socket := filepath.Join(dir.Path, "sock")
	s := &nbdServer{dir: dir, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	// --read-only: the image is never written; without --persistent,
	// qemu-nbd exits when its one client leaves.
	s.cmd = command(ctx, qemuNBD, "--read-only", "--format="+format, "--socket="+socket, "--", abs)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		dir.Remove()
		return nil, fmt.Errorf("starting qemu-nbd on %q: %w", abs, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if s.conn, err = s.connect(ctx, socket); err != nil {
		return nil, errors.Join(fmt.Errorf("serving %q (%s) with qemu-nbd: %w", abs, format, err), s.stop())
	}
	return s, nil
}

// connect dials the socket until qemu-nbd listens on it.
func (s *nbdServer) connect(ctx context.Context, socket string) (net.Conn, error) {
	deadline := time.Now().Add(nbdStartTimeout)
	for {
		conn, err := net.Dial("unix", socket)
		if err == nil {
			return conn, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("qemu-nbd exited (%v): %s", s.cmd.ProcessState, s.said())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(nbdPollInterval):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("qemu-nbd did not listen on %q within %s", socket, nbdStartTimeout)
		}
	}
}

// said returns what qemu-nbd printed on stderr, once it exited.
func (s *nbdServer) said() string {
	select {
	case <-s.exited:
		return strings.TrimSpace(s.stderr.String())
	default:
		return ""
	}
}

// stop waits for qemu-nbd to exit (it does once its client left), kills it
// when it does not, and removes the socket's directory.
func (s *nbdServer) stop() error {
	s.once.Do(func() {
		if s.conn != nil {
			s.conn.Close()
		}
		select {
		case <-s.exited:
		case <-time.After(nbdExitTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		s.err = s.dir.Remove()
	})
	return s.err
}
