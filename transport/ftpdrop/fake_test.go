package ftpdrop_test

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
)

// fakeServer is a tiny scripted FTP server for replies no real server
// gives on demand: a listing in an unknown format, a password echoed back.
type fakeServer struct {
	addr    string
	listing string // sent for LIST
	echoPW  bool   // refuse the login, quoting the password
	wg      sync.WaitGroup
}

func startFake(t *testing.T, f *fakeServer) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	f.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Go(func() { f.session(c) })
		}
	})
	return f
}

func (f *fakeServer) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	reply := func(format string, args ...any) { fmt.Fprintf(c, format+"\r\n", args...) }
	reply("220 fake ready")
	var data net.Listener
	defer func() {
		if data != nil {
			data.Close()
		}
	}()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(cmd) {
		case "USER":
			reply("331 password please")
		case "PASS":
			if f.echoPW {
				reply("530 Login incorrect for password %s", arg)
			} else {
				reply("230 logged in")
			}
		case "FEAT":
			reply("211-Features:\r\n EPSV\r\n211 End")
		case "TYPE", "OPTS":
			reply("200 ok")
		case "PWD":
			reply(`257 "/" is the current folder`)
		case "CWD":
			reply("250 ok")
		case "EPSV":
			if data, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				reply("425 no data port")
				continue
			}
			reply("229 Entering Extended Passive Mode (|||%d|)", data.Addr().(*net.TCPAddr).Port)
		case "LIST":
			dc, err := data.Accept()
			if err != nil {
				reply("425 no data connection")
				continue
			}
			reply("150 here it comes")
			_, _ = dc.Write([]byte(f.listing))
			dc.Close()
			data.Close()
			data = nil
			reply("226 done")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not here")
		}
	}
}

func fakeConfig(f *fakeServer) ftpdrop.Config {
	return ftpdrop.Config{Addr: f.addr, User: "u", Password: "p", DialTimeout: 5 * time.Second, IOTimeout: 5 * time.Second,
		Drop: &transport.DropOptions{Retry: &transport.NoRetry}}
}

// The FTP library skips LIST lines it cannot read; the driver must not
// turn that into an empty folder.
func TestListUnknownFormat(t *testing.T) {
	f := startFake(t, &fakeServer{listing: "Name: charges.dat  Size: 120  Date: 2024-09-02\r\n"})
	_, err := ftpdrop.Open(t.Context(), fakeConfig(f))
	if code := transport.ErrorCode(err); code != transport.Protocol {
		t.Fatalf("Open over an unreadable listing: code %v (%v), want Protocol", code, err)
	}
	f = startFake(t, &fakeServer{listing: "" +
		"-rw-r--r--    1 ftp      ftp             5 Mar 05  2024 ok.csv\r\n" +
		"ZZZ weird line for pay.csv\r\n"})
	_, err = ftpdrop.Open(t.Context(), fakeConfig(f))
	if code := transport.ErrorCode(err); code != transport.Protocol || !strings.Contains(err.Error(), "ZZZ weird line") {
		t.Fatalf("a listing with one unreadable line: code %v (%v), want Protocol naming the line", code, err)
	}
}

// LIST times are the server's wall clock, read in Config.Location.
func TestListLocation(t *testing.T) {
	f := startFake(t, &fakeServer{listing: "" +
		"total 1\r\n" +
		"-rw-r--r--    1 ftp      ftp          1234 Mar 05  2024 pay ment.csv\r\n"})
	cfg := fakeConfig(f)
	pst := time.FixedZone("PST", -8*3600)
	cfg.Location = pst
	d, err := ftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	list, err := d.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := transport.FileInfo{Name: "pay ment.csv", Size: 1234, ModTime: time.Date(2024, 3, 5, 0, 0, 0, 0, pst)}
	if len(list) != 1 || list[0].Name != want.Name || list[0].Size != want.Size || !list[0].ModTime.Equal(want.ModTime) {
		t.Errorf("List = %+v, want [%+v]", list, want)
	}
}

// The password must appear in no error, no log line and no formatted
// configuration, even when the server quotes it back.
func TestPasswordNeverShown(t *testing.T) {
	const secret = "s3cret-Hunter2"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	f := startFake(t, &fakeServer{echoPW: true})
	cfg := fakeConfig(f)
	cfg.Password = secret
	cfg.Logger = logger
	cfg.Drop = &transport.DropOptions{Logger: logger}
	_, err := ftpdrop.Open(t.Context(), cfg)
	if err == nil {
		t.Fatal("Open succeeded with a refused login")
	}
	if code := transport.ErrorCode(err); code != transport.Permission {
		t.Errorf("refused login: code %v (%v), want Permission", code, err)
	}
	logger.Info("config", "cfg", cfg)
	shown := []string{
		err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err),
		fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.String(),
		logs.String(),
	}
	for e := err; e != nil; {
		shown = append(shown, e.Error())
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	for _, s := range shown {
		if strings.Contains(s, secret) {
			t.Errorf("the password shows in %q", s)
		}
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error %q does not show where the password was taken out", err)
	}
}
