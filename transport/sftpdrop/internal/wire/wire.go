// Package wire makes an SSH connection's TCP traffic cheaper in system
// calls, for the SFTP driver and its embedded test server: reads go
// through a large buffer, so that one call brings in several SSH packets,
// and writes made while a call is under way go out together in the next.
package wire

import (
	"bufio"
	"net"
	"sync"
	"time"
)

// Conn is a net.Conn with buffered reads and batched writes. A write
// returns once its bytes are queued; a failure to send them is the error
// of a later Write (and the connection is closed, so reads fail too).
type Conn struct {
	net.Conn
	in *bufio.Reader

	// WriteTimeout bounds each system call that sends queued bytes;
	// zero means none.
	WriteTimeout time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	queued  []byte // bytes written, not yet sent
	spare   []byte // the buffer of the last call, for reuse
	err     error  // the failure of a send
	closed  bool
	started bool // the sending goroutine runs
	sending bool // a call is under way
}

// readBuffer is the size of the read buffer; maxQueued is how much a
// writer may queue before it waits.
const (
	readBuffer = 256 << 10
	maxQueued  = 256 << 10
)

// New wraps c.
func New(c net.Conn) *Conn {
	w := &Conn{Conn: c, in: bufio.NewReaderSize(c, readBuffer)}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// Read reads through the buffer.
func (c *Conn) Read(p []byte) (int, error) { return c.in.Read(p) }

// Write queues p for the sending goroutine, waiting while the queue is
// full.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		c.started = true
		go c.send()
	}
	for c.err == nil && !c.closed && len(c.queued) >= maxQueued {
		c.cond.Wait()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.closed {
		return 0, net.ErrClosed
	}
	c.queued = append(c.queued, p...)
	c.cond.Broadcast()
	return len(p), nil
}

// send writes out what is queued, all of it in one call, until the
// connection is closed or fails.
func (c *Conn) send() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for len(c.queued) == 0 && !c.closed && c.err == nil {
			c.cond.Wait()
		}
		if c.err != nil || len(c.queued) == 0 {
			return
		}
		out := c.queued
		c.queued, c.spare = c.spare[:0], nil
		c.sending = true
		c.cond.Broadcast()
		c.mu.Unlock()
		if c.WriteTimeout > 0 {
			_ = c.Conn.SetWriteDeadline(time.Now().Add(c.WriteTimeout))
		}
		_, err := c.Conn.Write(out)
		c.mu.Lock()
		c.sending = false
		c.spare = out[:0]
		if err != nil {
			c.err = err
			c.cond.Broadcast()
			c.Conn.Close()
			return
		}
	}
}

// Close closes the connection; what is still queued is not sent.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	return c.Conn.Close()
}
