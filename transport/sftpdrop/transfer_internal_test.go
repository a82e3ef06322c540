package sftpdrop

import (
	"bytes"
	"io"
	"testing"
)

// TestDownloadChunksReused passes chunks of one SFTP packet through a
// download's queue and reads them: in the steady state a chunk comes back
// from the pool rather than being allocated for each packet. (Before, the
// pool was handed an empty holder for each chunk taken, and Gets found
// those: every packet allocated 32 KiB.)
func TestDownloadChunksReused(t *testing.T) {
	dl := &download{chunks: make(chan *[]byte, 1), quit: make(chan struct{})}
	packet := bytes.Repeat([]byte{7}, 32<<10)
	buf := make([]byte, len(packet))
	cycle := func() {
		if _, err := (queue{dl}).Write(packet); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(dl, buf); err != nil {
			t.Fatal(err)
		}
	}
	cycle()
	// A garbage collection empties the pool; allow for a rare one.
	if allocs := testing.AllocsPerRun(100, cycle); allocs > 0.5 {
		t.Errorf("%.2f allocations a packet, want none in the steady state", allocs)
	}
	if !bytes.Equal(buf, packet) {
		t.Error("the chunk read is not the packet written")
	}
}

// writes records the sizes of the writes it gets.
type writes struct {
	bytes.Buffer
	sizes []int
}

func (w *writes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// TestDownloadWriteTo reads the start of a download, then copies the rest
// with io.Copy: the download writes whole chunks to the writer (its
// WriteTo), not the small pieces of a Read loop, and ends with the
// transfer's error.
func TestDownloadWriteTo(t *testing.T) {
	dl := &download{chunks: make(chan *[]byte, 3), quit: make(chan struct{})}
	var want []byte
	for i := range 3 {
		c := bytes.Repeat([]byte{byte('a' + i)}, 32<<10)
		want = append(want, c...)
		dl.chunks <- &c
	}
	dl.err = errAborted
	close(dl.chunks)
	head := make([]byte, 10)
	if _, err := io.ReadFull(dl, head); err != nil {
		t.Fatal(err)
	}
	wt, ok := any(dl).(io.WriterTo)
	if !ok {
		t.Fatal("a download is not an io.WriterTo")
	}
	var w writes
	n, err := wt.WriteTo(&w)
	if err != errAborted || n != int64(len(want)-10) {
		t.Errorf("WriteTo = %d, %v; want %d, the transfer's error", n, err, len(want)-10)
	}
	if !bytes.Equal(append(head, w.Bytes()...), want) {
		t.Error("the bytes read and written are not the file")
	}
	if len(w.sizes) != 3 || w.sizes[1] != 32<<10 {
		t.Errorf("writes of %v bytes, want the rest of the first chunk and two whole ones", w.sizes)
	}
}
