package delayproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

const (
	// chunkSize is the most one read forwards at a time.
	chunkSize = 64 << 10
	// inFlight is how many chunks may wait for their delay per direction:
	// 8 MiB, a TCP window that a long fat path would have.
	inFlight = 128
)

// ErrNotLoopback is returned when an address is not on 127.0.0.0/8 or ::1.
var ErrNotLoopback = errors.New("not a loopback address")

// Proxy forwards connections accepted on Addr to an upstream address,
// delaying each direction by Delay.
type Proxy struct {
	// Delay is the one-way latency added in each direction.
	Delay time.Duration

	upstream string
	listener net.Listener
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool
	wg       sync.WaitGroup
	pool     sync.Pool
}

// Start listens on listen ("127.0.0.1:0" picks a port) and forwards to
// upstream ("127.0.0.1:PORT") with delay each way (delay >= 0).
func Start(listen, upstream string, delay time.Duration) (*Proxy, error) {
	if delay < 0 {
		return nil, fmt.Errorf("delay %s: expected zero or more", delay)
	}
	for _, addr := range []string{listen, upstream} {
		if err := checkLoopback(addr); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", listen, err)
	}
	p := &Proxy{Delay: delay, upstream: upstream, listener: ln, conns: map[net.Conn]struct{}{}}
	p.pool.New = func() any { b := make([]byte, chunkSize); return &b }
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the address the proxy listens on, "127.0.0.1:PORT".
func (p *Proxy) Addr() string { return p.listener.Addr().String() }

// Close stops listening, closes every connection and waits for them.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.listener.Close()
	p.wg.Wait()
	return err
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q: %w", addr, ErrNotLoopback)
	}
	return nil
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return
		}
		accepted := time.Now()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.forward(client, accepted)
		}()
	}
}

// track adds c to the open connections; false when the proxy is closing.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// forward joins client to a new upstream connection. The client's bytes
// reach the server no earlier than three one-way delays after the accept
// (SYN, SYN-ACK, then the data), as over a real path.
func (p *Proxy) forward(client net.Conn, accepted time.Time) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client, accepted.Add(2*p.Delay)); done <- struct{}{} }()
	go func() { p.pipe(client, server, time.Time{}); done <- struct{}{} }()
	<-done
	<-done
}

type chunk struct {
	buf *[]byte
	n   int
	due time.Time
}

// pipe copies src to dst, each chunk Delay after it was read (and not
// before notBefore+Delay), then half-closes dst.
func (p *Proxy) pipe(dst, src net.Conn, notBefore time.Time) {
	queue := make(chan chunk, inFlight)
	go func() {
		defer close(queue)
		for {
			buf := p.pool.Get().(*[]byte)
			n, err := src.Read(*buf)
			if n > 0 {
				read := time.Now()
				if read.Before(notBefore) {
					read = notBefore
				}
				queue <- chunk{buf: buf, n: n, due: read.Add(p.Delay)}
			} else {
				p.pool.Put(buf)
			}
			if err != nil {
				return
			}
		}
	}()
	failed := false
	for c := range queue {
		if !failed {
			time.Sleep(time.Until(c.due))
			if _, err := dst.Write((*c.buf)[:c.n]); err != nil {
				failed = true
				src.Close() // stops the reader; the queue drains
			}
		}
		p.pool.Put(c.buf)
	}
	if tcp, ok := dst.(*net.TCPConn); ok && !failed {
		_ = tcp.CloseWrite()
		return
	}
	dst.Close()
}
