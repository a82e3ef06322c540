package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pair returns the two ends of a TCP connection on 127.0.0.1.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// Bytes written in many small and large writes arrive whole and in order.
func TestWritesArriveInOrder(t *testing.T) {
	a, b := pair(t)
	w, r := New(a), New(b)
	var want bytes.Buffer
	got := make(chan []byte, 1)
	go func() {
		data, _ := io.ReadAll(r)
		got <- data
	}()
	for i := range 500 {
		p := bytes.Repeat([]byte{byte(i)}, 1+(i*37)%40000)
		want.Write(p)
		if n, err := w.Write(p); err != nil || n != len(p) {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	// Close only once everything was sent.
	for {
		w.mu.Lock()
		done := len(w.queued) == 0 && !w.sending
		w.mu.Unlock()
		if done {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.Close()
	data := <-got
	if !bytes.Equal(data, want.Bytes()) {
		t.Fatalf("read %d bytes, want %d (equal prefix: %v)", len(data), want.Len(), bytes.HasPrefix(want.Bytes(), data))
	}
}

// A failed send is the error of a later Write, and the connection is
// closed so that its reader stops too.
func TestSendFailureReported(t *testing.T) {
	a, b := pair(t)
	w := New(a)
	w.WriteTimeout = 50 * time.Millisecond
	b.Close()
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		_, err = w.Write(make([]byte, 64<<10))
	}
	if err == nil {
		t.Fatal("writes to a closed peer never failed")
	}
	if _, rerr := w.Read(make([]byte, 10)); rerr == nil {
		t.Error("read after a failed send succeeded")
	}
}

// A peer that stops reading makes the send fail after WriteTimeout, which
// wakes a writer waiting for room in the queue.
func TestStalledPeer(t *testing.T) {
	a, _ := pair(t) // the server end is never read
	w := New(a)
	w.WriteTimeout = 100 * time.Millisecond
	var err error
	for i := 0; i < 100000 && err == nil; i++ {
		_, err = w.Write(make([]byte, 64<<10))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("writes to a stalled peer: %v, want a timeout", err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	a, _ := pair(t)
	w := New(a)
	w.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}
