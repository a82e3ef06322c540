package sftpdrop_test

import (
	"io"
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
	"github.com/feebridge/feebridge/transport/sftpdrop"
)

// sized reads size zero bytes without allocating.
type sized struct{ left int64 }

func (s *sized) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), s.left))
	clear(p[:n])
	s.left -= int64(n)
	return n, nil
}

// BenchmarkTransfer100MB uploads (Put: temporary name, then rename) and
// downloads (Open, read to the end) a 100 MB file over loopback, through
// the SFTP driver against the embedded SFTP server and, in the same run
// for comparison, through the FTP driver against the embedded FTP server,
// plain ("ftp": the kernel sends the file unencrypted) and with explicit
// TLS ("ftps": encrypted, as SSH always is).
//
//	go test ./transport/sftpdrop -run '^$' -bench Transfer100MB -benchtime 5x
func BenchmarkTransfer100MB(b *testing.B) {
	b.Run("sftp", func(b *testing.B) {
		srv := newServer(b)
		d, err := sftpdrop.Open(b.Context(), srv.Config())
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		transfer(b, d)
	})
	for _, ftps := range []bool{false, true} {
		name := "ftp"
		if ftps {
			name = "ftps"
		}
		b.Run(name, func(b *testing.B) {
			srv := ftptest.NewServer(b, &ftptest.Options{TLS: ftps})
			d, err := ftpdrop.Open(b.Context(), srv.Config())
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			transfer(b, d)
		})
	}
}

func transfer(b *testing.B, d *transport.Drop) {
	const size = 100 << 20
	b.Run("upload", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if err := d.Put(b.Context(), "big.dat", &sized{left: size}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("download", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			rc, err := d.Open(b.Context(), "big.dat")
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, rc)
			if err == nil {
				err = rc.Close()
			}
			if err != nil || n != size {
				b.Fatalf("read %d bytes: %v", n, err)
			}
		}
	})
}
