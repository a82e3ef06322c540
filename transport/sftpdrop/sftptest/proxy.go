package sftptest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy relays TCP connections between SSH clients and a server and
// breaks things on demand: it cuts every connection at once
// ([Proxy.CutAll]), or once the connections have carried a number of
// bytes either way ([Proxy.CutAfter]: halfway through an upload or a
// download), or stops relaying without closing ([Proxy.Stall]: a stalled
// server). SSH cannot be cut more finely than its connection: a cut ends
// the SSH connection and every SFTP request on it.
type Proxy struct {
	Addr string // where clients connect

	target   string
	ln       net.Listener
	stalled  atomic.Bool
	untilCut atomic.Bool // the stall ends when a connection ends

	mu      sync.Mutex
	conns   map[net.Conn]bool
	cutAt   int64 // cut when carried reaches it; 0 when not armed
	carried int64
	cuts    int
	closed  bool
	wg      sync.WaitGroup
}

// NewProxy starts a proxy on a free port of 127.0.0.1 in front of the
// server at target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sftptest: %w", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: make(map[net.Conn]bool)}
	p.wg.Go(p.accept)
	return p, nil
}

// CutAll closes every connection going through the proxy now. New
// connections are still relayed.
func (p *Proxy) CutAll() {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.cuts++
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// CutAfter arms a single cut: once the connections have carried n more
// bytes (either way, SSH's own bytes included), every connection is
// closed.
func (p *Proxy) CutAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutAt = p.carried + max(n, 1)
}

// Cuts returns how many times connections were cut.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// Carried returns how many bytes the connections have carried so far.
func (p *Proxy) Carried() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.carried
}

// Stall stops (true) or resumes (false) relaying, without closing any
// connection: a server that stopped answering.
func (p *Proxy) Stall(on bool) { p.stalled.Store(on) }

// Stalled reports whether the proxy is stalled.
func (p *Proxy) Stalled() bool { return p.stalled.Load() }

// StallUntilCut stops relaying until a connection ends (the client gave
// up on the stalled server and closed it, or a cut): the next connections
// are relayed. A stall that ends without a clock.
func (p *Proxy) StallUntilCut() {
	p.untilCut.Store(true)
	p.stalled.Store(true)
}

// Close stops the proxy and cuts every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.stalled.Store(false)
	err := p.ln.Close()
	p.CutAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.relay(client) })
	}
}

func (p *Proxy) relay(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	ended := make(chan struct{})
	var once sync.Once
	end := func() {
		once.Do(func() {
			close(ended)
			client.Close()
			server.Close()
			if p.untilCut.CompareAndSwap(true, false) {
				p.stalled.Store(false)
			}
		})
	}
	done := make(chan struct{})
	p.wg.Go(func() {
		defer close(done)
		p.pump(server, client, ended, end)
	})
	p.pump(client, server, ended, end)
	<-done
}

// pump copies one way, counting bytes for CutAfter and waiting while
// stalled. It keeps reading while stalled, so that it sees the other side
// close. When either way ends, end closes both connections.
func (p *Proxy) pump(dst, src net.Conn, ended <-chan struct{}, end func()) {
	defer end()
	chunks := make(chan []byte, 256)
	p.wg.Go(func() {
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case chunks <- buf[:n]:
				case <-ended:
					return
				}
			}
			if err != nil {
				if p.stalled.Load() {
					end() // what is held back is lost, as in a stalled server
				}
				close(chunks)
				return
			}
		}
	})
	for {
		var chunk []byte
		var ok bool
		select {
		case chunk, ok = <-chunks:
			if !ok {
				return
			}
		case <-ended:
			return
		}
		for p.stalled.Load() {
			select {
			case <-ended:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		if _, err := dst.Write(chunk); err != nil {
			return
		}
		if p.count(int64(len(chunk))) {
			p.CutAll()
			return
		}
	}
}

// count adds n carried bytes and reports whether an armed cut is due.
func (p *Proxy) count(n int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.carried += n
	if p.cutAt > 0 && p.carried >= p.cutAt {
		p.cutAt = 0
		return true
	}
	return false
}
