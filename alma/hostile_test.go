package alma_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/feebridge/feebridge/alma"
)

// endless is a reader of head followed by fill repeated forever; it counts
// the bytes read, so a test can check that a decoder or a handler stopped
// reading soon after the hostile part.
type endless struct {
	head []byte
	fill []byte
	pos  int
	read atomic.Int64
}

func newEndless(head, fill string) *endless { return &endless{head: []byte(head), fill: []byte(fill)} }

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if e.pos < len(e.head) {
			c := copy(p[n:], e.head[e.pos:])
			e.pos += c
			n += c
			continue
		}
		i := (e.pos - len(e.head)) % len(e.fill)
		c := copy(p[n:], e.fill[i:])
		e.pos += c
		n += c
	}
	e.read.Add(int64(n))
	return n, nil
}

const exportHead = `<?xml version="1.0" encoding="UTF-8"?>
<xb:userExportedFineFeesList xmlns:xb="http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans">
`

// TestHostileExportXML feeds the bursar decoder files built to exhaust a
// parser: entity expansion (DOCTYPE, internal, external and parameter
// entities), nesting without end, and tokens without end. Each must end
// the decoding with a syntax error that names the problem, after reading
// little more than the hostile part: nothing is expanded and nothing grows
// with the input.
func TestHostileExportXML(t *testing.T) {
	const readLimit = 4 << 20 // the decoder may read ahead, but not the world
	laughs := `<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
`
	for _, tt := range []struct {
		name       string
		head, fill string
		msg        string
	}{
		{"billion laughs", `<?xml version="1.0"?>` + "\n" + laughs, "<lolz>&lol9;</lolz>", "DOCTYPE is not allowed"},
		{"external entity", `<?xml version="1.0"?>` + "\n" + `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + "\n", "<x>&xxe;</x>", "DOCTYPE is not allowed"},
		{"parameter entity", `<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]>`, "<x/>", "DOCTYPE is not allowed"},
		{"DOCTYPE after a comment", "<!-- hello -->\n" + `<!DOCTYPE x SYSTEM "file:///dev/zero">`, "<x/>", "DOCTYPE is not allowed"},
		{"DOCTYPE inside the root", exportHead + `<!DOCTYPE x [<!ENTITY a "b">]>`, "<x/>", "DOCTYPE is not allowed"},
		{"endless nesting", exportHead, "<a>", "nested deeper than 32"},
		{"endless nesting, one name each", exportHead, "<a1><a2><a3><a4><a5><a6><a7><a8>", "nested deeper than 32"},
		{"endless text", exportHead + "<xb:userExportedFineFees><xb:user><xb:value>", "0123456789", ""},
		{"endless tag name", exportHead + "<xb:", "aaaaaaaa", ""},
		{"endless attribute", exportHead + `<xb:user a="`, "aaaaaaaa", ""},
		{"endless comment", exportHead + "<!--", "aaaaaaaa", ""},
		{"endless CDATA", exportHead + "<xb:user><![CDATA[", "aaaaaaaa", ""},
		{"endless entity reference", exportHead + "<xb:user>&", "aaaaaaaa", ""},
		{"endless character reference", exportHead + "<xb:user>&#", "00000000", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newEndless(tt.head, tt.fill)
			dec := alma.NewExportDecoder(r, &alma.DecoderOptions{File: "hostile.xml"})
			var err error
			for range 1000 {
				if _, err = dec.Decode(); err != nil && !errors.Is(err, alma.ErrMissingUser) {
					var pe *alma.ParseError
					if !errors.As(err, &pe) || errors.Is(err, alma.ErrSyntax) {
						break
					}
				}
			}
			var pe *alma.ParseError
			switch {
			case err == nil || errors.Is(err, io.EOF):
				t.Fatalf("decoded on without an error after %d bytes", r.read.Load())
			case !errors.As(err, &pe) || !errors.Is(err, alma.ErrSyntax):
				t.Fatalf("got %v, want a *ParseError wrapping ErrSyntax", err)
			case pe.File != "hostile.xml":
				t.Errorf("the error %q does not name the file", err)
			case tt.msg != "" && !strings.Contains(err.Error(), tt.msg):
				t.Errorf("got %q, want it to say %q", err, tt.msg)
			}
			if n := r.read.Load(); n > readLimit {
				t.Errorf("read %d bytes before refusing, want at most %d", n, readLimit)
			}
			// The error is sticky: the decoder reads no further.
			before := r.read.Load()
			if _, err2 := dec.Decode(); err2 == nil || r.read.Load() != before {
				t.Errorf("after the error: Decode = %v, read %d more bytes", err2, r.read.Load()-before)
			}
			t.Logf("%s: %v (after %d bytes)", tt.name, err, r.read.Load())
		})
	}
}

// TestHostileExportManyNames: a file that opens ever new element names
// (each closed again, so no nesting limit applies) must not grow the
// decoder's name table without bound.
func TestHostileExportManyNames(t *testing.T) {
	var b strings.Builder
	b.WriteString(exportHead)
	for i := range 20000 {
		b.WriteString("<n")
		b.WriteString(strings.Repeat("x", i%7))
		for v := i; v > 0; v /= 26 {
			b.WriteByte(byte('a' + v%26))
		}
		b.WriteString("/>")
	}
	b.WriteString("</xb:userExportedFineFeesList>")
	dec := alma.NewExportDecoder(strings.NewReader(b.String()), &alma.DecoderOptions{File: "names.xml"})
	var err error
	for err == nil {
		_, err = dec.Decode()
	}
	if errors.Is(err, io.EOF) {
		// Accepted: then the names must not have been kept; the package
		// interns at most xmlscan.MaxNames and treats the rest as plain text.
		t.Logf("20,000 distinct element names decoded to the end")
		return
	}
	if !errors.Is(err, alma.ErrSyntax) {
		t.Fatalf("got %v, want io.EOF or a syntax error", err)
	}
	t.Logf("20,000 distinct element names: %v", err)
}

// TestHostileWebhookBodies: a body without end, with the handler's
// defaults, is cut at the limit and answered 413 without reading the
// rest; an unsigned or wrongly signed delivery of a real event is 401;
// neither reaches the callback.
func TestHostileWebhookBodies(t *testing.T) {
	d := loadDelivery(t, "loan_returned_event.lambda.json")
	for _, tt := range []struct {
		name string
		body io.Reader
		sig  string
		want int
	}{
		{"endless body, signed head", newEndless(d.Body, " "), d.Signature, http.StatusRequestEntityTooLarge},
		{"endless body, unsigned", newEndless(d.Body, " "), "", http.StatusRequestEntityTooLarge},
		{"unsigned", strings.NewReader(d.Body), "", http.StatusUnauthorized},
		{"signature header twice, second good", strings.NewReader(d.Body), "bad", http.StatusUnauthorized},
		{"signature of an empty body", strings.NewReader(d.Body), alma.Sign(webhookSecret, nil), http.StatusUnauthorized},
		{"empty secret's signature", strings.NewReader(d.Body), alma.Sign(nil, []byte(d.Body)), http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			h := alma.NewWebhookHandler(webhookSecret, rec.handle, nil)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/alma", tt.body)
			req.Header.Set("Content-Type", "application/json")
			if tt.sig != "" {
				req.Header.Set(alma.SignatureHeader, tt.sig)
			}
			if tt.name == "signature header twice, second good" {
				req.Header.Add(alma.SignatureHeader, d.Signature)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
			if len(rec.events) != 0 {
				t.Errorf("the callback was called for a refused delivery")
			}
			if e, ok := tt.body.(*endless); ok {
				if n := e.read.Load(); n > alma.DefaultMaxWebhookBody+64<<10 {
					t.Errorf("read %d bytes of an endless body, want at most the limit %d and a buffer", n, alma.DefaultMaxWebhookBody)
				}
			}
			if strings.Contains(w.Body.String(), "secretkey") {
				t.Errorf("the answer shows the secret: %q", w.Body.String())
			}
		})
	}
}
