package ftptest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy relays plain FTP between clients and a server on 127.0.0.1 and
// breaks things on demand: it cuts every connection at once, or once the
// data connections have carried a number of bytes (halfway through an
// upload or a download), or ends a data connection early while the
// control connection carries on ([Proxy.TruncateAfter]), or stalls the
// data connections.
//
// Passive data connections go through the proxy too: it rewrites the
// server's PASV (227) and EPSV (229) replies to point at a port of its
// own. It cannot read TLS sessions, so it is for plain FTP only.
type Proxy struct {
	Addr string // where clients connect

	target  string
	ln      net.Listener
	stalled atomic.Bool

	mu       sync.Mutex
	conns    map[net.Conn]bool
	cutAt    int64 // cut when carried reaches it; 0 when not armed
	truncAt  int64 // end a data connection when carried reaches it
	truncOn  bool  // truncAt is armed
	truncs   int
	carried  int64 // bytes carried by data connections
	closed   bool
	cuts     int
	wg       sync.WaitGroup
	dataLns  map[net.Listener]bool
	pasvLine *regexp.Regexp
}

// NewProxy starts a proxy on a free port of 127.0.0.1 in front of the FTP
// server at target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ftptest: %w", err)
	}
	p := &Proxy{
		Addr:     ln.Addr().String(),
		target:   target,
		ln:       ln,
		conns:    make(map[net.Conn]bool),
		dataLns:  make(map[net.Listener]bool),
		pasvLine: regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`),
	}
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

// CutAfter arms a single cut: once data connections have carried n more
// bytes, every connection is closed.
func (p *Proxy) CutAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutAt = p.carried + n
}

// TruncateAfter arms a single early end of a data connection: once data
// connections have carried n more bytes, the one carrying them ends there
// for its receiver, cleanly, as though the sender had sent everything; the
// rest of what the sender sends is swallowed. The control connection is
// left alone, so the server's final reply (226) still reaches the client:
// a download is read short, or an upload is stored short, with no error
// on either connection.
func (p *Proxy) TruncateAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.truncAt = p.carried + max(n, 0)
	p.truncOn = true
}

// Truncations returns how many data connections [Proxy.TruncateAfter]
// ended early.
func (p *Proxy) Truncations() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.truncs
}

// Cuts returns how many times connections were cut.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// Stall stops (true) or resumes (false) relaying data connections,
// without closing them: a stalled server.
func (p *Proxy) Stall(on bool) { p.stalled.Store(on) }

// Close stops the proxy and cuts every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	lns := make([]net.Listener, 0, len(p.dataLns))
	for l := range p.dataLns {
		lns = append(lns, l)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	for _, l := range lns {
		l.Close()
	}
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
		p.wg.Go(func() { p.control(client) })
	}
}

// control relays one control connection, rewriting passive-mode replies.
func (p *Proxy) control(client net.Conn) {
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
	p.wg.Go(func() {
		_, _ = io.Copy(server, client)
		server.Close()
	})
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = p.rewrite(line)
		if _, err := io.WriteString(client, line); err != nil {
			return
		}
	}
}

// rewrite points a PASV or EPSV reply at a new relay port of the proxy.
func (p *Proxy) rewrite(line string) string {
	host, _, _ := net.SplitHostPort(p.target)
	switch {
	case strings.HasPrefix(line, "229 "):
		i, j := strings.Index(line, "(|||"), strings.LastIndex(line, "|)")
		if i < 0 || j < i+4 {
			return line
		}
		port, err := strconv.Atoi(line[i+4 : j])
		if err != nil {
			return line
		}
		local := p.relay(net.JoinHostPort(host, strconv.Itoa(port)))
		if local == 0 {
			return line
		}
		return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", local)
	case strings.HasPrefix(line, "227 "):
		m := p.pasvLine.FindStringSubmatch(line)
		if m == nil {
			return line
		}
		hi, _ := strconv.Atoi(m[5])
		lo, _ := strconv.Atoi(m[6])
		local := p.relay(net.JoinHostPort(host, strconv.Itoa(hi*256+lo)))
		if local == 0 {
			return line
		}
		return fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d)\r\n", local/256, local%256)
	}
	return line
}

// relay listens on a new port for one data connection to forward to addr
// and returns the port, or 0.
func (p *Proxy) relay(addr string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		ln.Close()
		return 0
	}
	p.dataLns[ln] = true
	p.mu.Unlock()
	p.wg.Go(func() {
		defer func() {
			p.mu.Lock()
			delete(p.dataLns, ln)
			p.mu.Unlock()
			ln.Close()
		}()
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
		client, err := ln.Accept()
		if err != nil {
			return
		}
		ln.Close()
		if !p.track(client) {
			return
		}
		defer p.untrack(client)
		server, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return
		}
		if !p.track(server) {
			return
		}
		defer p.untrack(server)
		done := make(chan struct{})
		p.wg.Go(func() {
			defer close(done)
			p.pump(server, client)
		})
		p.pump(client, server)
		<-done
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// pump copies a data connection one way, counting bytes for CutAfter and
// TruncateAfter and waiting while stalled. At the end it half-closes dst
// so that the end of an upload or download passes through.
func (p *Proxy) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			for p.stalled.Load() {
				time.Sleep(5 * time.Millisecond)
				p.mu.Lock()
				closed := p.closed
				p.mu.Unlock()
				if closed {
					return
				}
			}
			keep, act := p.count(int64(n))
			if _, werr := dst.Write(buf[:keep]); werr != nil {
				return
			}
			switch act {
			case cut:
				p.CutAll()
				return
			case truncate:
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				_, _ = io.Copy(io.Discard, src)
				return
			}
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}

type action int

const (
	pass action = iota
	cut
	truncate
)

// count adds n carried bytes and returns how many of them to pass on and
// whether an armed cut or early end is due.
func (p *Proxy) count(n int64) (keep int64, act action) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before := p.carried
	p.carried += n
	if p.truncOn && p.carried >= p.truncAt {
		keep = p.truncAt - before
		p.truncOn = false
		p.truncs++
		return keep, truncate
	}
	if p.cutAt > 0 && p.carried >= p.cutAt {
		p.cutAt = 0
		return n, cut
	}
	return n, pass
}
