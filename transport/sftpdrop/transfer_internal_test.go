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
