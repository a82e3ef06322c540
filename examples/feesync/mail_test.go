package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/robfig/cron/v3"

	"github.com/feebridge/feebridge/reconcile/config"
)

const smtpPassword = "test-smtp-password"

// mailbox is a real SMTP server on 127.0.0.1 (go-smtp's) that offers
// STARTTLS with a self-signed certificate, takes AUTH PLAIN only over TLS
// and with the test password, and keeps the messages it receives.
type mailbox struct {
	mu       sync.Mutex
	messages []*mail.Message
	addr     string
	caFile   string
	// open takes mail without a login (for security = "none").
	open bool
}

func (b *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) { return &mailSession{b: b}, nil }

type mailSession struct {
	b    *mailbox
	auth bool
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "feebridge" || pass != smtpPassword {
			return errors.New("bad user or password")
		}
		s.auth = true
		return nil
	}), nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error {
	if !s.auth && !s.b.open {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	msg.Body = strings.NewReader(string(body))
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.messages = append(s.b.messages, msg)
	return nil
}

// received returns the messages so far.
func (b *mailbox) received() []*mail.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*mail.Message(nil), b.messages...)
}

func startMailbox(t *testing.T) *mailbox { return startMailboxMode(t, "starttls") }

// startMailboxMode starts a mailbox for security mode: "starttls", "tls"
// (TLS from the first byte) or "none" (plain, without a login).
func startMailboxMode(t *testing.T, mode string) *mailbox {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: start, NotAfter: start.AddDate(30, 0, 0),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	b := &mailbox{caFile: filepath.Join(t.TempDir(), "ca.pem")}
	if err := os.WriteFile(b.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = l.Addr().String()
	switch mode {
	case "tls":
		l = tls.NewListener(l, srv.TLSConfig)
	case "none":
		b.open, srv.TLSConfig = true, nil
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return b
}

// withMail adds a [mail] section for b to the site's config.
func (s *site) withMail(b *mailbox) { s.withMailMode(b, "starttls") }

func (s *site) withMailMode(b *mailbox, mode string) {
	s.t.Helper()
	user := "feebridge"
	if mode == "none" {
		user = ""
	}
	host, port, _ := net.SplitHostPort(b.addr)
	f, err := os.OpenFile(s.config, os.O_APPEND|os.O_WRONLY, 0)
	s.must(err)
	_, err = fmt.Fprintf(f, `[mail]
host = %q
port = %s
security = %q
user = %q
ca_file = %q
from = "Library fees <feebridge@example.edu>"
to = ["circulation@example.edu", "bursar@example.edu"]
subject_prefix = "[feebridge test] "
`, host, port, mode, user, b.caFile)
	s.must(err)
	s.must(f.Close())
	s.env["FEEBRIDGE_SMTP_PASSWORD"] = smtpPassword
}

// part is one leaf of a MIME message, decoded.
type part struct {
	contentType, filename string
	body                  []byte
}

// leaves returns the leaf parts of a message, decoded.
func leaves(t *testing.T, header map[string][]string, body io.Reader) []part {
	t.Helper()
	get := func(k string) string {
		if v := header[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mt, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		var out []part
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, leaves(t, p.Header, p)...)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	p := part{contentType: mt, body: b}
	if _, dp, err := mime.ParseMediaType(get("Content-Disposition")); err == nil {
		p.filename = dp["filename"]
	}
	return []part{p}
}

func subject(t *testing.T, m *mail.Message) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMorningMailAndAlerts runs the report with a [mail] section against a
// real SMTP server (STARTTLS, AUTH PLAIN) and reads back the morning mail:
// the subject, the report's HTML as the HTML part and its CSV attached.
// Then the charges job fails three times in a row: one alert; it
// succeeds: one "resolved" mail; it fails again: a new alert.
func TestMorningMailAndAlerts(t *testing.T) {
	box := startMailbox(t)
	s := newSite(t)
	s.withMail(box)

	r := s.run("run", "report")
	if r.code != ExitOK {
		t.Fatalf("run report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	msgs := box.received()
	if len(msgs) != 1 {
		t.Fatalf("%d messages after the report, want 1", len(msgs))
	}
	m := msgs[0]
	if got := subject(t, m); !strings.HasPrefix(got, "[feebridge test] Library fees") {
		t.Errorf("subject %q", got)
	}
	if to := m.Header.Get("To"); !strings.Contains(to, "circulation@example.edu") || !strings.Contains(to, "bursar@example.edu") {
		t.Errorf("To: %q", to)
	}
	reports := filepath.Join(s.libDir, "reports")
	var htmlFile, csvFile string
	for _, n := range s.files(reports) {
		switch filepath.Ext(n) {
		case ".html":
			htmlFile = n
		case ".csv":
			csvFile = n
		}
	}
	if htmlFile == "" || csvFile == "" {
		t.Fatalf("report files: %v", s.files(reports))
	}
	wantHTML, err := os.ReadFile(filepath.Join(reports, htmlFile))
	s.must(err)
	wantCSV, err := os.ReadFile(filepath.Join(reports, csvFile))
	s.must(err)
	var sawHTML, sawCSV bool
	for _, p := range leaves(t, m.Header, m.Body) {
		switch {
		case p.contentType == "text/html":
			sawHTML = true
			if normNL(p.body) != normNL(wantHTML) {
				t.Errorf("the HTML part is not the report's HTML:\n%s", p.body)
			}
		case p.filename != "":
			sawCSV = true
			if p.filename != csvFile || p.contentType != "text/csv" {
				t.Errorf("attachment %q (%s), want %q (text/csv)", p.filename, p.contentType, csvFile)
			}
			if normNL(p.body) != normNL(wantCSV) {
				t.Errorf("the attachment is not the report's CSV:\n%s\nwant:\n%s", p.body, wantCSV)
			}
		}
	}
	if !sawHTML || !sawCSV {
		t.Errorf("HTML part %v, CSV attachment %v; want both", sawHTML, sawCSV)
	}

	// The charges job fails (its folder is gone) three runs in a row:
	// one alert.
	exports := filepath.Join(s.libDir, "exports")
	s.must(os.Remove(exports))
	for range 3 {
		if r := s.run("run", "charges"); r.code == ExitOK {
			t.Fatalf("run charges without its folder succeeded:\n%s", r.stderr)
		}
		s.clock.Advance(time.Hour)
	}
	msgs = box.received()[1:]
	if len(msgs) != 1 {
		t.Fatalf("%d alerts after three failed runs, want 1", len(msgs))
	}
	if got := subject(t, msgs[0]); !strings.Contains(got, "ALERT") || !strings.Contains(got, "charges failed") {
		t.Errorf("alert subject %q", got)
	}
	body := string(leaves(t, msgs[0].Header, msgs[0].Body)[0].body)
	if !strings.Contains(body, "exports") {
		t.Errorf("the alert does not name the cause:\n%s", body)
	}

	// It succeeds: resolved. It fails again: a new alert.
	s.must(os.Mkdir(exports, 0o755))
	wantRun(t, s.run("run", "charges"), ExitOK)
	s.must(os.Remove(exports))
	if r := s.run("run", "charges"); r.code == ExitOK {
		t.Fatal("run charges without its folder succeeded")
	}
	msgs = box.received()[2:]
	if len(msgs) != 2 {
		t.Fatalf("%d mails after success and a new failure, want 2 (resolved, alert)", len(msgs))
	}
	if got := subject(t, msgs[0]); !strings.Contains(got, "RESOLVED") || !strings.Contains(got, "charges") {
		t.Errorf("first subject %q, want the resolution", got)
	}
	if got := subject(t, msgs[1]); !strings.Contains(got, "ALERT") || !strings.Contains(got, "charges failed") {
		t.Errorf("second subject %q, want a new alert", got)
	}
}

func normNL(b []byte) string { return strings.ReplaceAll(string(b), "\r\n", "\n") }

// overdueWatchSite is a site that mails to a mailbox, with feesync serve's
// Main opened on it and its overdue watch made, without serve's cron.
func overdueWatchSite(t *testing.T) (*mailbox, *site, *overdueWatch) {
	t.Helper()
	box := startMailbox(t)
	s := newSite(t)
	s.withMail(box)
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return s.env[k] }, Now: s.clock.Now}
	s.must(m.ParseFlags(t.Context(), []string{"serve", "-config", s.config}))
	t.Cleanup(func() { m.Close() })
	var err error
	m.config, err = config.Load(s.config)
	s.must(err)
	m.logger = newLogger(io.Discard, m.config.Log)
	if _, err := m.openJobs(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	cr := cron.New(cron.WithLocation(time.UTC), cron.WithParser(config.CronParser()))
	w := m.watchOverdue(t.Context(), cr)
	return box, s, w
}

// TestServeAlertsOverdueJob checks serve's overdue watch without its cron:
// the report job, due daily, has not succeeded for a day and a half since
// serve started: one alert, however often the watch looks; a run that
// succeeds resolves it.
func TestServeAlertsOverdueJob(t *testing.T) {
	box, s, w := overdueWatchSite(t)
	if w == nil || w.periods[jobReport] != 24*time.Hour || w.periods[jobPayments] != time.Hour {
		t.Fatalf("watch: %+v", w)
	}
	delete(w.periods, jobCharges) // only the report and the hourly jobs are watched here
	delete(w.periods, jobPayments)
	delete(w.periods, jobCredits)
	delete(w.periods, jobReconcile)
	s.clock.Advance(24 * time.Hour)
	w.check(t.Context())
	if n := len(box.received()); n != 0 {
		t.Fatalf("%d mails within the margin, want none", n)
	}
	for range 3 {
		s.clock.Advance(12 * time.Hour)
		w.check(t.Context())
	}
	msgs := box.received()
	if len(msgs) != 1 || !strings.Contains(subject(t, msgs[0]), "ALERT: job report is overdue") {
		t.Fatalf("%d mails, want one overdue alert", len(msgs))
	}
	w.after(t.Context(), &jobRun{Job: jobReport, Start: s.clock.Now()})
	w.check(t.Context())
	msgs = box.received()
	if len(msgs) != 2 || !strings.Contains(subject(t, msgs[1]), "RESOLVED: job report ran again") {
		t.Fatalf("%d mails, want the alert and its resolution", len(msgs))
	}
}

// TestMailSecurityModes mails the report over TLS from the first byte and
// over plain SMTP without a login.
func TestMailSecurityModes(t *testing.T) {
	for _, mode := range []string{"tls", "none"} {
		t.Run(mode, func(t *testing.T) {
			box := startMailboxMode(t, mode)
			s := newSite(t)
			s.withMailMode(box, mode)
			wantRun(t, s.run("run", "report"), ExitOK)
			if msgs := box.received(); len(msgs) != 1 || !strings.Contains(subject(t, msgs[0]), "Library fees") {
				t.Fatalf("%d messages, want the report", len(msgs))
			}
		})
	}
}
