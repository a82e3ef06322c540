package remote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/transport"
)

func TestRootResolvesOnce(t *testing.T) {
	var r Root
	calls := 0
	wd := func() (string, error) { calls++; return "/home/alma", nil }
	if err := r.Resolve("drop/../in", wd); err != nil {
		t.Fatal(err)
	}
	if err := r.Resolve("other", wd); err != nil {
		t.Fatal(err)
	}
	if got := r.Abs(""); got != "/home/alma/in" || calls != 1 {
		t.Errorf("root %q after %d calls of wd, want /home/alma/in after 1", got, calls)
	}
	if got := r.Abs("done/a.xml"); got != "/home/alma/in/done/a.xml" {
		t.Errorf("Abs = %q", got)
	}
	var abs Root
	if err := abs.Resolve("/srv/ftp/", func() (string, error) { return "", errors.New("not asked") }); err != nil || abs.Abs("") != "/srv/ftp" {
		t.Errorf("absolute root: %q, %v", abs.Abs(""), err)
	}
	var failing Root
	if err := failing.Resolve("in", func() (string, error) { return "", errors.New("pwd refused") }); err == nil {
		t.Error("an error of wd was not returned")
	}
}

func TestRedactDropsTheChain(t *testing.T) {
	inner := errors.New("login as alma with s3cret refused")
	err := Redact(fmt.Errorf("dial: %w", inner), "", "s3cret")
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("Redact = %q", err)
	}
	if errors.Is(err, inner) {
		t.Error("the redacted error still wraps the original")
	}
	plain := errors.New("no secret here")
	if Redact(plain, "s3cret") != plain || Redact(nil, "x") != nil {
		t.Error("an error without a secret was not returned as it is")
	}
}

func TestMapErrAndKnownCode(t *testing.T) {
	sentinel := errors.New("root folder not found")
	classify := func(error) transport.Code { return transport.Transient }
	keep := func(err error) error { return err }
	ctx := context.Background()
	cause := Cause(sentinel, transport.NotFound, "the root is missing", errors.New("550"))
	for _, c := range []struct {
		err  error
		want transport.Code
	}{
		{cause, transport.Transient}, // the driver's classify decides, and may call KnownCode
		{&transport.Error{Code: transport.Permission}, transport.Permission},
	} {
		if got := transport.ErrorCode(MapErr(ctx, "open", "a", c.err, classify, keep)); got != c.want {
			t.Errorf("MapErr(%v) code %v, want %v", c.err, got, c.want)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if got := transport.ErrorCode(MapErr(done, "open", "a", errors.New("reset"), classify, keep)); got != transport.Canceled {
		t.Errorf("after cancel: %v", got)
	}
	if MapErr(ctx, "open", "a", nil, classify, keep) != nil {
		t.Error("nil mapped to an error")
	}
	if c, ok := KnownCode(fmt.Errorf("wrapped: %w", cause)); !ok || c != transport.NotFound || !errors.Is(cause, sentinel) {
		t.Errorf("KnownCode(cause) = %v, %v", c, ok)
	}
	if c, ok := KnownCode(&SourceError{&transport.Error{Code: transport.NotFound}}); !ok || c != transport.NotFound {
		t.Errorf("KnownCode(source) = %v, %v", c, ok)
	}
	if _, ok := KnownCode(errors.New("other")); ok {
		t.Error("KnownCode knew an unknown error")
	}
}
