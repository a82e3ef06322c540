package sftpdrop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/internal/remote"
)

// sizeError is a transfer whose bytes are not the whole file: a file that
// changed while it was read, or an upload the server stored short.
type sizeError struct {
	upload    bool
	got, want int64
}

func (e *sizeError) Error() string {
	if e.upload {
		return fmt.Sprintf("the server stored %d bytes of the %d sent", e.got, e.want)
	}
	return fmt.Sprintf("read %d bytes but the file had %d when opened: it changed while it was read", e.got, e.want)
}

// Open implements [transport.Driver]. The reader keeps several read
// requests in flight and holds a connection until it is closed.
func (d *Driver) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, d.mapErr(ctx, "open", name, err)
	}
	for try := 0; ; try++ {
		s, err := d.acquire(ctx, try > 0)
		if err != nil {
			return nil, d.mapErr(ctx, "open", name, err)
		}
		s.begin()
		stop := context.AfterFunc(ctx, s.abort)
		f, err := s.client.Open(d.abs(name))
		var fi os.FileInfo
		if err == nil {
			if fi, err = f.Stat(); err == nil && fi.IsDir() {
				err = &transport.Error{Code: transport.NotFound, Op: "open", Path: name, Err: errors.New("is a folder")}
			}
			if err != nil {
				f.Close()
			}
		}
		if err != nil {
			stop()
			s.end()
			broken := s.dead() || onWire(err)
			d.release(s, broken)
			if broken && s.reused && try == 0 && ctx.Err() == nil {
				continue
			}
			return nil, d.mapErr(ctx, "open", name, err)
		}
		return d.download(ctx, s, stop, f, name, fi.Size()), nil
	}
}

// download streams a file from a goroutine that reads it with concurrent
// requests (File.WriteTo) into a queue of chunks, so that the caller's
// small reads neither wait for a round trip nor hand over to the
// goroutine at each call.
type download struct {
	chunks chan *[]byte
	cur    []byte  // what is left of the chunk being read
	buf    *[]byte // the whole chunk being read, for reuse
	s      *session
	done   chan struct{} // closed when the goroutine has ended
	quit   chan struct{} // closed by Close before the end
	err    error         // the mapped error of the transfer, set before chunks closes
	// state decides who ends the transfer: the goroutine at its end
	// (finishing) or Close before it (abandoned), never both.
	state atomic.Int32
}

const (
	running int32 = iota
	finishing
	abandoned
)

// queueDepth is the number of chunks (of at most one SFTP packet each)
// a download reads ahead of its caller.
const queueDepth = 64

func (d *Driver) download(ctx context.Context, s *session, stop func() bool, f *sftp.File, name string, size int64) *download {
	dl := &download{chunks: make(chan *[]byte, queueDepth), s: s, done: make(chan struct{}), quit: make(chan struct{})}
	go func() {
		defer close(dl.done)
		n, err := f.WriteTo(queue{dl})
		if err == nil && n != size {
			err = &sizeError{got: n, want: size}
		}
		cerr := f.Close()
		stop()
		s.end()
		broken := !dl.state.CompareAndSwap(running, finishing) || s.dead() || onWire(err) || onWire(cerr)
		d.release(s, broken)
		dl.err = d.mapErr(ctx, "read", name, err)
		close(dl.chunks)
	}()
	return dl
}

// queue is the writer end of a download's chunk queue.
type queue struct{ dl *download }

// chunkPool holds the chunks of downloads (one SFTP packet each) for
// reuse.
var chunkPool sync.Pool

func (q queue) Write(p []byte) (int, error) {
	// Only chunks go back into the pool (Read puts them, in the holder
	// they came in), never an empty holder, which a Get could find and
	// then allocate a chunk again.
	bp, _ := chunkPool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	if cap(*bp) < len(p) {
		*bp = make([]byte, 0, max(len(p), 32<<10))
	}
	*bp = append((*bp)[:0], p...)
	select {
	case q.dl.chunks <- bp:
		return len(p), nil
	case <-q.dl.quit:
		return 0, errAborted
	}
}

func (r *download) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.buf != nil {
			chunkPool.Put(r.buf)
			r.buf = nil
		}
		bp, ok := <-r.chunks
		if !ok {
			if r.err != nil {
				return 0, r.err
			}
			return 0, io.EOF
		}
		r.cur, r.buf = *bp, bp
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// WriteTo writes the rest of the download to w, each chunk as it comes,
// without the copy and the small calls of a Read loop (io.Copy uses it).
// An error of w is returned as it is.
func (r *download) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		if len(r.cur) > 0 {
			m, err := w.Write(r.cur)
			n += int64(m)
			r.cur = r.cur[m:]
			if err != nil {
				return n, err
			}
			if len(r.cur) > 0 {
				return n, io.ErrShortWrite
			}
		}
		if r.buf != nil {
			chunkPool.Put(r.buf)
			r.buf = nil
		}
		bp, ok := <-r.chunks
		if !ok {
			return n, r.err
		}
		r.cur, r.buf = *bp, bp
	}
}

// Close ends the download. Closing before the end abandons the
// connection: the rest of the transfer is not wanted.
func (r *download) Close() error {
	if !r.state.CompareAndSwap(running, abandoned) {
		<-r.done
		return r.err
	}
	r.s.abort()
	close(r.quit)
	<-r.done
	return nil
}

// Create implements [transport.Driver].
func (d *Driver) Create(ctx context.Context, name string, r io.Reader) error {
	src := &remote.Source{Ctx: ctx, R: r}
	return d.with(ctx, "create", name, func(s *session) error {
		return d.upload(s, d.abs(name), src)
	}, func() bool { return src.N == 0 })
}

// upload writes src to server path p with several write requests in
// flight, checks the stored size and flushes the file to disk where the
// server offers fsync@openssh.com.
func (d *Driver) upload(s *session, p string, src *remote.Source) error {
	f, err := s.client.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	if _, err := f.ReadFromWithConcurrency(src, d.cfg.Concurrency); err != nil {
		f.Close()
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != src.N {
		err = &sizeError{upload: true, got: fi.Size(), want: src.N}
	}
	if err == nil && s.fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Put implements [transport.AtomicPutter]: the content goes to a
// temporary name in the same folder, which is renamed into place.
func (d *Driver) Put(ctx context.Context, name string, r io.Reader) error {
	src := &remote.Source{Ctx: ctx, R: r}
	tmp := transport.TempName(name)
	var left bool // the temporary file may still be on the server
	err := d.with(ctx, "put", name, func(s *session) error {
		left = true
		err := d.upload(s, d.abs(tmp), src)
		if err == nil {
			err = d.publish(s, tmp, name)
		}
		if err == nil {
			left = false
			return nil
		}
		if !s.dead() && !onWire(err) {
			if rerr := s.client.Remove(d.abs(tmp)); rerr == nil || errors.Is(rerr, os.ErrNotExist) {
				left = false
			}
		}
		return err
	}, func() bool { return src.N == 0 })
	if err != nil && left {
		d.cleanup(ctx, tmp)
	}
	return err
}

// publish renames the uploaded tmp to name, replacing a file there.
func (d *Driver) publish(s *session, tmp, name string) error {
	err := d.rename(s, tmp, name)
	// No posix-rename: for an instant, name does not exist. Another
	// writer may put its file there in that instant: try again.
	for try := 0; try < 8 && transport.ErrorCode(err) == transport.Exists; try++ {
		if err := s.client.Remove(d.abs(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		err = d.rename(s, tmp, name)
	}
	return err
}

// cleanup removes a temporary file after a failed upload on a connection
// that broke, on a new one, even when ctx was canceled, with a bounded
// wait. Failing is harmless: List hides it and a later Put removes it.
func (d *Driver) cleanup(ctx context.Context, tmp string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(15*time.Second, 2*d.cfg.Timeout))
	defer cancel()
	err := d.with(ctx, "remove", tmp, func(s *session) error {
		return s.client.Remove(d.abs(tmp))
	}, nil)
	if err != nil && transport.ErrorCode(err) != transport.NotFound {
		d.log.Warn("sftpdrop: could not remove a temporary file", "path", path.Clean(tmp), "error", err.Error())
	}
}
