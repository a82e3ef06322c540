package ftpdrop_test

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
)

// hostileServer is a scripted FTP server whose listing of the folder
// "in" is chosen by the test, as a compromised or confused server might
// send it, and which records every command it gets.
type hostileServer struct {
	addr    string
	listing string
	mu      sync.Mutex
	cmds    []string
	wg      sync.WaitGroup
}

func startHostile(t *testing.T, listing string) *hostileServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileServer{addr: ln.Addr().String(), listing: listing}
	t.Cleanup(func() { ln.Close(); h.wg.Wait() })
	h.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.wg.Go(func() { h.session(c) })
		}
	})
	return h
}

// commands returns the commands received that name a file: RETR, STOR,
// RNFR, RNTO, DELE, SIZE, MDTM.
func (h *hostileServer) commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.cmds)
}

func (h *hostileServer) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	reply := func(format string, args ...any) { fmt.Fprintf(c, format+"\r\n", args...) }
	reply("220 hostile ready")
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
		switch cmd = strings.ToUpper(cmd); cmd {
		case "USER":
			reply("331 password please")
		case "PASS":
			reply("230 logged in")
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
		case "LIST", "NLST", "MLSD":
			if data == nil {
				reply("425 no data connection")
				continue
			}
			dc, err := data.Accept()
			if err != nil {
				reply("425 no data connection")
				continue
			}
			reply("150 here it comes")
			if strings.TrimSuffix(arg, "/") == "/in" {
				_, _ = dc.Write([]byte(h.listing))
			}
			dc.Close()
			data.Close()
			data = nil
			reply("226 done")
		case "QUIT":
			reply("221 bye")
			return
		default:
			h.mu.Lock()
			h.cmds = append(h.cmds, cmd+" "+arg)
			h.mu.Unlock()
			if data != nil {
				data.Close()
				data = nil
			}
			reply("550 refused by the test server")
		}
	}
}

func listLine(name string) string {
	return "-rw-r--r--    1 ftp      ftp            12 Mar 05  2024 " + name + "\r\n"
}

// TestHostileListing: a listing that names files outside the folder
// ("../evil", "/etc/passwd") or with control characters must never give
// a name that the drop would open or claim: each such entry is refused
// (List fails) or left out of the listing with a warning, and never
// rewritten into another name (such as "evil" for "../evil").
func TestHostileListing(t *testing.T) {
	hostile := []struct {
		name      string
		rewritten []string // names a careless driver would turn it into
	}{
		{"../evil", []string{"evil"}},
		{"../../etc/passwd", []string{"passwd", "etc/passwd"}},
		{"/etc/passwd", []string{"passwd", "etc/passwd"}},
		{"sub/../../x.csv", []string{"x.csv"}},
		{`..\..\win.ini`, []string{"win.ini"}},
		{"ctl\x01name.csv", []string{"ctlname.csv"}},
		{"esc\x1b[31mred.csv", []string{"esc[31mred.csv"}},
		{"del\x7f.csv", []string{"del.csv"}},
	}
	for _, tc := range hostile {
		t.Run(fmt.Sprintf("%q", tc.name), func(t *testing.T) {
			h := startHostile(t, listLine("ok.csv")+listLine(tc.name))
			var logs bytes.Buffer
			cfg := ftpdrop.Config{Addr: h.addr, User: "u", Password: "p", DialTimeout: 5 * time.Second, IOTimeout: 5 * time.Second,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				Drop:   &transport.DropOptions{Retry: &transport.NoRetry}}
			d, err := ftpdrop.Open(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()

			list, err := d.List(t.Context(), "in")
			if err == nil {
				var names []string
				for _, fi := range list {
					names = append(names, fi.Name)
					if verr := transport.ValidName(fi.Name); verr != nil {
						t.Errorf("List gave %q, a name the drop itself refuses (%v)", fi.Name, verr)
					}
					if slices.Contains(tc.rewritten, fi.Name) {
						t.Errorf("List turned the server's %q into %q: the file would be opened under a name the server never gave", tc.name, fi.Name)
					}
				}
				if !slices.Contains(names, "ok.csv") {
					t.Errorf("List = %q, lost the good entry ok.csv", names)
				}
				if slices.Contains(names, tc.name) && !strings.Contains(logs.String(), "level=WARN") {
					t.Errorf("List kept %q without a warning", tc.name)
				}
				if !slices.Contains(names, tc.name) && !strings.Contains(logs.String(), "level=WARN") {
					t.Errorf("List left %q out silently; want a warning naming it", tc.name)
				}
			} else if code := transport.ErrorCode(err); code != transport.Protocol && code != transport.InvalidName {
				t.Errorf("List refused the listing with code %v (%v), want Protocol or InvalidName", code, err)
			}

			// Whatever the listing said, the inbox must not open, rename or
			// claim the hostile name, nor any name derived from it.
			in := &transport.Inbox{Drop: d, Dir: "in"}
			pending, _ := in.Pending(t.Context())
			for _, fi := range pending {
				if fi.Name == "ok.csv" {
					continue
				}
				if _, err := in.Claim(t.Context(), fi.Name); err == nil {
					t.Errorf("Claim(%q) succeeded", fi.Name)
				}
				if rc, err := d.Open(t.Context(), "in/"+fi.Name); err == nil {
					rc.Close()
					t.Errorf("Open(%q) succeeded", fi.Name)
				}
			}
			for _, c := range h.commands() {
				if strings.Contains(c, "ok.csv") {
					continue
				}
				t.Errorf("the server was sent %q for the listing's %q", c, tc.name)
			}
		})
	}
}

// TestListingPathInFolder: some servers list entries as paths in the folder
// listed ("/in/pay.csv"); those keep working as plain names.
func TestListingPathInFolder(t *testing.T) {
	h := startHostile(t, listLine("/in/pay.csv")+listLine("in/charges.dat")+listLine("ok.csv"))
	d, err := ftpdrop.Open(t.Context(), ftpdrop.Config{Addr: h.addr, User: "u", Password: "p", DialTimeout: 5 * time.Second, IOTimeout: 5 * time.Second,
		Drop: &transport.DropOptions{Retry: &transport.NoRetry}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	list, err := d.List(t.Context(), "in")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range list {
		names = append(names, fi.Name)
	}
	if want := []string{"charges.dat", "ok.csv", "pay.csv"}; !slices.Equal(names, want) {
		t.Errorf("List = %q, want %q", names, want)
	}
}

// FuzzListing feeds LIST answers to the driver: whatever the server says,
// List fails or gives only names the drop accepts, in the folder listed.
func FuzzListing(f *testing.F) {
	for _, s := range []string{
		listLine("ok.csv"),
		listLine("../evil") + listLine("ok.csv"),
		listLine("/etc/passwd"),
		listLine("/in/pay.csv"),
		listLine("ctl\x01name.csv"),
		"drwxr-xr-x    2 ftp      ftp          4096 Mar 05 10:00 done\r\n" + listLine("a b.csv"),
		"total 0\r\n",
		"type=file;size=12;modify=20240305100000; x.csv\r\n",
		"03-05-24  10:00AM                   12 dos.csv\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, listing string) {
		h := startHostile(t, listing)
		d, err := ftpdrop.Open(t.Context(), ftpdrop.Config{Addr: h.addr, User: "u", Password: "p", DialTimeout: 5 * time.Second, IOTimeout: 5 * time.Second,
			Drop: &transport.DropOptions{Retry: &transport.NoRetry}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		list, err := d.List(t.Context(), "in")
		if err != nil {
			return
		}
		for _, fi := range list {
			if verr := transport.ValidName(fi.Name); verr != nil || strings.Contains(fi.Name, "/") {
				t.Errorf("List gave %q from the listing %q", fi.Name, listing)
			}
		}
	})
}
