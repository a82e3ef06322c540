package transport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// chunked is a driver whose readers write their content to a writer
// themselves (io.WriterTo), as the SFTP driver's downloads do, and then
// fail with err if it is set.
type chunked struct {
	transport.Driver
	err   error
	wrote *int // calls of WriteTo
}

type chunkedReader struct {
	io.ReadCloser
	c *chunked
}

func (c *chunked) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := c.Driver.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return chunkedReader{rc, c}, nil
}

func (r chunkedReader) WriteTo(w io.Writer) (int64, error) {
	*r.c.wrote++
	n, err := io.Copy(w, struct{ io.Reader }{r.ReadCloser})
	if err == nil {
		err = r.c.err
	}
	return n, err
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// TestOpenWriteTo copies a Drop's reader with io.Copy: the driver's own
// WriteTo does the copy (no Read loop through the Drop's wrapper), its
// error comes back as a *transport.Error naming the file, and the
// writer's error as it is.
func TestOpenWriteTo(t *testing.T) {
	ctx := t.Context()
	c := &chunked{Driver: memdrop.NewDriver(nil), wrote: new(int)}
	d := transport.NewDrop(c, &transport.DropOptions{Retry: &transport.NoRetry})
	if err := d.WriteFile(ctx, "a", []byte("content")); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Open(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if n, err := io.Copy(&buf, rc); err != nil || n != 7 || buf.String() != "content" {
		t.Errorf("io.Copy = %d, %v, %q; want 7, nil, content", n, err, buf.String())
	}
	rc.Close()
	if *c.wrote != 1 {
		t.Errorf("the driver's WriteTo ran %d times, want 1", *c.wrote)
	}

	c.err = errors.New("connection reset by peer")
	rc, _ = d.Open(ctx, "a")
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	var te *transport.Error
	if !errors.As(err, &te) || te.Op != "read" || te.Path != "a" || !strings.Contains(err.Error(), "reset") {
		t.Errorf("a driver's failure = %v, want a *transport.Error of the read of a", err)
	}

	c.err = nil
	full := errors.New("disk full")
	rc, _ = d.Open(ctx, "a")
	_, err = io.Copy(failingWriter{full}, rc)
	rc.Close()
	if err != full {
		t.Errorf("the writer's failure = %v, want %v as it is", err, full)
	}
}
