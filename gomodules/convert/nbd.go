package convert

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
)

// The NBD protocol's constants (the NBD protocol specification,
// github.com/NetworkBlockDevice/nbd, doc/proto.md), for the fixed newstyle
// handshake, NBD_OPT_EXPORT_NAME and simple replies: all a reader needs.
const (
	nbdMagic             = 0x4e42444d41474943 // "NBDMAGIC"
	nbdOptMagic          = 0x49484156454f5054 // "IHAVEOPT"
	nbdFlagFixedNewstyle = 1 << 0
	nbdFlagNoZeroes      = 1 << 1
	nbdOptExportName     = 1
	nbdRequestMagic      = 0x25609513
	nbdSimpleReplyMagic  = 0x67446698
	nbdCmdRead           = 0
	nbdCmdDisc           = 2
	// nbdExportZeroes is the padding after NBD_OPT_EXPORT_NAME's reply
	// unless both sides agreed on NBD_FLAG_NO_ZEROES.
	nbdExportZeroes = 124
)

// Reads in flight: each asks for nbdChunk bytes (qemu-nbd takes up to 32
// MiB a request); several at once keep qemu-nbd busy while the caller
// consumes the previous one.
const (
	nbdChunk    = 4 << 20
	nbdInFlight = 4
)

// errNBDProtocol is wrapped by errors about a server that broke the protocol.
var errNBDProtocol = errors.New("NBD protocol error")

// nbdRequest is one NBD_CMD_READ in flight.
type nbdRequest struct {
	handle uint64
	offset int64
	buf    []byte
	done   chan error
}

// nbdReader reads an NBD export from its start to its end, in order, with
// nbdInFlight reads outstanding. Replies may come in any order (qemu-nbd
// serves requests concurrently); each is matched to its request by handle.
type nbdReader struct {
	conn    net.Conn
	size    int64
	next    int64         // offset of the next read to send
	queue   []*nbdRequest // sent, in offset order
	current []byte        // what is left of the head request's data
	pending map[uint64]*nbdRequest
	mu      sync.Mutex
	handle  uint64
	err     error // sticky
	readerr chan struct{}
}

// dialNBD does the fixed newstyle handshake on conn and selects the default
// export (name ""), returning a reader of it.
func dialNBD(conn net.Conn) (*nbdReader, error) {
	br := bufio.NewReader(conn)
	var greeting struct {
		Magic, OptMagic uint64
		Flags           uint16
	}
	if err := binary.Read(br, binary.BigEndian, &greeting); err != nil {
		return nil, fmt.Errorf("reading the NBD greeting: %w", err)
	}
	if greeting.Magic != nbdMagic || greeting.OptMagic != nbdOptMagic || greeting.Flags&nbdFlagFixedNewstyle == 0 {
		return nil, fmt.Errorf("%w: not a fixed newstyle NBD server (greeting %x %x %x)", errNBDProtocol, greeting.Magic, greeting.OptMagic, greeting.Flags)
	}
	clientFlags := uint32(nbdFlagFixedNewstyle)
	noZeroes := greeting.Flags&nbdFlagNoZeroes != 0
	if noZeroes {
		clientFlags |= nbdFlagNoZeroes
	}
	var hello []byte
	hello = binary.BigEndian.AppendUint32(hello, clientFlags)
	hello = binary.BigEndian.AppendUint64(hello, nbdOptMagic)
	hello = binary.BigEndian.AppendUint32(hello, nbdOptExportName)
	hello = binary.BigEndian.AppendUint32(hello, 0) // the default export: an empty name
	if _, err := conn.Write(hello); err != nil {
		return nil, fmt.Errorf("selecting the NBD export: %w", err)
	}
	var export struct {
		Size  uint64
		Flags uint16
	}
	if err := binary.Read(br, binary.BigEndian, &export); err != nil {
		return nil, fmt.Errorf("reading the NBD export's size (the server refused the export?): %w", err)
	}
	if !noZeroes {
		if _, err := br.Discard(nbdExportZeroes); err != nil {
			return nil, fmt.Errorf("reading the NBD export's size: %w", err)
		}
	}
	if export.Size > 1<<62 {
		return nil, fmt.Errorf("%w: export size %d", errNBDProtocol, export.Size)
	}
	r := &nbdReader{conn: conn, size: int64(export.Size), pending: map[uint64]*nbdRequest{}, readerr: make(chan struct{})}
	go r.receive(br)
	return r, nil
}

// Size returns the export's size in bytes: the image's virtual size.
func (r *nbdReader) Size() int64 { return r.size }

// Read returns the export's bytes in order, and io.EOF at its end.
func (r *nbdReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for len(r.current) == 0 {
		if err := r.fill(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.current)
	r.current = r.current[n:]
	return n, nil
}

// WriteTo writes the rest of the export to w, each reply's data in one
// write, with no copy through a caller's buffer.
func (r *nbdReader) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for {
		if r.err != nil {
			if r.err == io.EOF {
				return written, nil
			}
			return written, r.err
		}
		if len(r.current) == 0 {
			if err := r.fill(); err != nil {
				r.err = err
			}
			continue
		}
		n, err := w.Write(r.current)
		written += int64(n)
		r.current = r.current[n:]
		if err != nil {
			return written, err
		}
	}
}

func (r *nbdReader) chunked() {}

// fill sends reads until nbdInFlight are outstanding, then waits for the
// oldest and makes its data current; its buffer serves the next request.
func (r *nbdReader) fill() error {
	var spare []byte
	if len(r.queue) > 0 && r.current != nil {
		// The head request was consumed: recycle its buffer.
		spare = r.queue[0].buf[:cap(r.queue[0].buf)]
		r.queue = r.queue[1:]
	}
	r.current = nil
	for len(r.queue) < nbdInFlight && r.next < r.size {
		if spare == nil {
			spare = make([]byte, nbdChunk)
		}
		if err := r.send(spare); err != nil {
			return err
		}
		spare = nil
	}
	if len(r.queue) == 0 {
		return io.EOF
	}
	if err := <-r.queue[0].done; err != nil {
		return err
	}
	r.current = r.queue[0].buf
	return nil
}

// send asks for the next chunk into buf.
func (r *nbdReader) send(buf []byte) error {
	length := min(int64(len(buf)), r.size-r.next)
	req := &nbdRequest{offset: r.next, buf: buf[:length], done: make(chan error, 1)}
	r.mu.Lock()
	r.handle++
	req.handle = r.handle
	r.pending[req.handle] = req
	r.mu.Unlock()
	var msg [28]byte
	binary.BigEndian.PutUint32(msg[0:], nbdRequestMagic)
	binary.BigEndian.PutUint16(msg[4:], 0)
	binary.BigEndian.PutUint16(msg[6:], nbdCmdRead)
	binary.BigEndian.PutUint64(msg[8:], req.handle)
	binary.BigEndian.PutUint64(msg[16:], uint64(r.next))
	binary.BigEndian.PutUint32(msg[24:], uint32(length))
	if _, err := r.conn.Write(msg[:]); err != nil {
		return fmt.Errorf("sending an NBD read at offset %d: %w", r.next, err)
	}
	r.next += length
	r.queue = append(r.queue, req)
	return nil
}

// receive reads replies until the connection ends, handing each one's data
// to its request; when it stops, every request still waiting gets the error.
func (r *nbdReader) receive(br *bufio.Reader) {
	defer close(r.readerr)
	var err error
	for err == nil {
		err = r.receiveOne(br)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for handle, req := range r.pending {
		req.done <- err
		delete(r.pending, handle)
	}
}

func (r *nbdReader) receiveOne(br *bufio.Reader) error {
	var header [16]byte
	if _, err := io.ReadFull(br, header[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: the NBD server closed the connection", errNBDProtocol)
		}
		return fmt.Errorf("reading an NBD reply: %w", err)
	}
	if magic := binary.BigEndian.Uint32(header[0:]); magic != nbdSimpleReplyMagic {
		return fmt.Errorf("%w: reply magic %#x", errNBDProtocol, magic)
	}
	handle := binary.BigEndian.Uint64(header[8:])
	r.mu.Lock()
	req, ok := r.pending[handle]
	delete(r.pending, handle)
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: a reply to unknown request %d", errNBDProtocol, handle)
	}
	if code := binary.BigEndian.Uint32(header[4:]); code != 0 {
		// NBD error values are errno values (EIO for a corrupt image).
		err := fmt.Errorf("qemu-nbd failed to read %d bytes at offset %d of the disk: %w", len(req.buf), req.offset, syscall.Errno(code))
		req.done <- err
		return err
	}
	if _, err := io.ReadFull(br, req.buf); err != nil {
		err = fmt.Errorf("reading an NBD reply's data: %w", err)
		req.done <- err
		return err
	}
	req.done <- nil
	return nil
}

// Close ends the session (NBD_CMD_DISC) and the connection.
func (r *nbdReader) Close() error {
	var msg [28]byte
	binary.BigEndian.PutUint32(msg[0:], nbdRequestMagic)
	binary.BigEndian.PutUint16(msg[6:], nbdCmdDisc)
	_, _ = r.conn.Write(msg[:])
	err := r.conn.Close()
	<-r.readerr
	return err
}
