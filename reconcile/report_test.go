package reconcile_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// smtpServer is an SMTP server on 127.0.0.1 that offers STARTTLS with a
// self-signed certificate and keeps what it receives.
type smtpServer struct {
	mu       sync.Mutex
	messages []string
	tls      []bool
	addr     string
	pool     *x509.CertPool
}

func (s *smtpServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: s, c: c}, nil
}

type smtpSession struct {
	s *smtpServer
	c *smtp.Conn
}

func (x *smtpSession) Reset()                                      {}
func (x *smtpSession) Logout() error                               { return nil }
func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error { return nil }
func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error   { return nil }
func (x *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, secure := x.c.TLSConnectionState()
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.messages = append(x.s.messages, string(b))
	x.s.tls = append(x.s.tls, secure)
	return nil
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	s := &smtpServer{pool: x509.NewCertPool()}
	s.pool.AddCert(cert)
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func TestReportListsExceptionsAndMailsThem(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	e.charges.refuse[fees.TypeDamagedItemFine] = true
	e.put(e.library, "exports/alma-1.xml",
		"fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00",
		"fee|T2|S001|F2|LOSTITEMPROCESSFEE|B100|15.00",
		"fee|T9|S001|F9|OVERDUEFINE|B900|3.00",
		"fee|T5|S005|F5|DAMAGEDITEMFINE|=HYPERLINK(\"x\")|5.00",
		"end|4")
	e.put(e.library, "exports/alma-2.xml", "fee|T6|S006|F6|DAMAGEDITEMFINE|B600|40.00", "end|1")
	e.put(e.library, "exports/broken.xml", "nonsense")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(e.bursar, "outbound/pay.csv", "R1|T9|S001|3.00|ESERVICES|CREDIT_CARD", "R2|T1|S001|500.00|CASHIER|CASH", "end|2")
	if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The webhook failed for good: the item is back, the fees are still there.
	a.failNext = reconcile.Permanent(errors.New("Alma answered 400 401651"))
	if err := e.jobs(nil).LoanReturned(t.Context(), returned); err == nil {
		t.Fatal("no error from the failed webhook")
	}
	// The next morning: the forwarded payment is 18 hours old and Alma has
	// not imported it; the report covers the day before, when it all
	// happened.
	e.now = day(1).Add(-6 * time.Hour)

	srv := startSMTP(t)
	host, port, _ := net.SplitHostPort(srv.addr)
	var p int
	for _, c := range port {
		p = p*10 + int(c-'0')
	}
	mailer, err := reconcile.NewSMTPMailer(reconcile.SMTPOptions{Host: host, Port: p, From: "feebridge@library.example",
		TLSConfig: &tls.Config{RootCAs: srv.pool, ServerName: "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	e.opts.Mailer, e.opts.MailTo = mailer, []string{"circulation@library.example"}
	res, err := e.jobs(nil).Report(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	if len(rep.ReturnedWithFees) != 2 || len(rep.NotSent) != 2 || len(rep.Held) != 1 ||
		len(rep.PaymentsNotInAlma) != 1 || len(rep.FailedEvents) != 1 || len(rep.FailedFiles) != 1 {
		t.Errorf("report = %+v", rep)
	}
	if !rep.Totals.Charged.Equal(usd("138.00")) || !rep.Totals.Paid["ESERVICES"].Equal(usd("3.00")) {
		t.Errorf("totals = %+v", rep.Totals)
	}
	lib := files(t, e.library)
	out := lib["reports/feebridge-report-2026-03-03.csv"]
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsAny(cell[:1], "=+@") {
				t.Errorf("formula cell %q in the CSV", cell)
			}
		}
	}
	// The held payment names the fee of the charge it pays.
	if !strings.Contains(out, "Payment of 500.00 for fee F1 (LOSTITEMREPLACEMENTFEE, student S001) in pay.csv line 2 was held") {
		t.Errorf("CSV does not name the held payment's fee:\n%s", out)
	}
	if !strings.Contains(lib["reports/feebridge-report-2026-03-03.html"], "Lost item B100 of student S001 is no longer lost") {
		t.Errorf("html report lacks the returned item")
	}
	if !res.Mailed || len(srv.messages) != 1 || !srv.tls[0] {
		t.Fatalf("mailed %v, messages %d, tls %v", res.Mailed, len(srv.messages), srv.tls)
	}
	if msg := srv.messages[0]; !strings.Contains(msg, "Subject: Library fees: 8 exceptions") || !strings.Contains(msg, "feebridge-report-2026-03-03.csv") {
		t.Errorf("message:\n%s", msg)
	}
	// Alma imports the payment and staff waive by hand: only the held
	// records and the failures stay.
	a.pay("S001", "F9", "3.00")
	for _, id := range []string{"F1", "F2"} {
		f, _ := a.GetFee(t.Context(), "S001", id)
		a.Waive(t.Context(), "S001", id, f.Balance, "FOUND", "")
	}
	rep, err = e.jobs(nil).BuildReport(t.Context(), e.now)
	if err != nil || len(rep.ReturnedWithFees) != 0 || len(rep.PaymentsNotInAlma) != 0 {
		t.Errorf("report after the fixes = %+v, %v", rep, err)
	}
}

func TestReportCSVNeutralisesFormulas(t *testing.T) {
	rep := reconcile.Report{Date: day(0), Held: []reconcile.Record{{Kind: "payment", Key: "=1+1", UserID: "@SUM(A1)",
		Amount: usd("-5.00"), Reason: "+cmd|' /C calc'!A0"}}}
	var b bytes.Buffer
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&b).ReadAll()
	got := rows[2] // after the header and the period
	// section, item, student, amount, key, details
	want := []string{"needs staff", "Held payment", "'@SUM(A1)", "-5.00", "'=1+1", "'+cmd|' /C calc'!A0"}
	if g := []string{got[0], got[1], got[2], got[9], got[12], got[13]}; strings.Join(g, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("row = %q, want %q", got, want)
	}
}

// TestReportAsksAboutEachPaymentUntilAlmaShowsIt: the report lists a fee
// whose payments Alma does not show once PaymentDelay has passed since
// each was forwarded (a payment forwarded later does not make an earlier
// one late), and stops asking Alma about a fee once it shows them all.
func TestReportAsksAboutEachPaymentUntilAlmaShowsIt(t *testing.T) {
	e := newEnv(t)
	a := newFakeAlma()
	e.alma = a
	charged(t, e) // T1: 120.00 for S001
	a.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
	var lists atomic.Int32 // of all of a student's fees: the check of payments
	a.onList = func(st []fees.Status) {
		if len(st) == 0 {
			lists.Add(1)
		}
	}
	t0 := e.now
	pay := func(name, line string) {
		t.Helper()
		e.put(e.bursar, "outbound/"+name, line, "end|1")
		if res, err := e.jobs(nil).Payments(t.Context()); err != nil || res.Records != 1 {
			t.Fatalf("payments %s: %+v, %v", name, res, err)
		}
	}
	late := func(at time.Duration) []reconcile.PendingPayment {
		t.Helper()
		e.now = t0.Add(at)
		rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
		if err != nil {
			t.Fatal(err)
		}
		return rep.PaymentsNotInAlma
	}
	pay("a.csv", "R1|T1|S001|50.00|CASHIER|CASH")
	a.pay("S001", "F1", "50.00") // Alma's hourly import
	if got := late(4 * time.Hour); len(got) != 0 {
		t.Errorf("Alma shows R1: listed %+v", got)
	}
	e.now = t0.Add(5 * time.Hour)
	pay("b.csv", "R7|T1|S001|20.00|CASHIER|CASH")
	lists.Store(0)
	if got := late(6 * time.Hour); len(got) != 0 || lists.Load() != 0 {
		t.Errorf("R7 is an hour old and R1 was seen: listed %+v after %d calls", got, lists.Load())
	}
	if got := late(9 * time.Hour); len(got) != 1 || !got[0].Forwarded.Equal(usd("70.00")) || !got[0].AlmaPaid.Equal(usd("50.00")) {
		t.Errorf("R7 is four hours old and Alma does not show it: listed %+v", got)
	}
	a.pay("S001", "F1", "20.00")
	if got := late(10 * time.Hour); len(got) != 0 {
		t.Errorf("Alma shows both: listed %+v", got)
	}
	lists.Store(0)
	if got := late(11 * time.Hour); len(got) != 0 || lists.Load() != 0 {
		t.Errorf("a fee Alma was seen to show is asked about again: %d calls, listed %+v", lists.Load(), got)
	}
}
