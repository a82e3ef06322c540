package alma_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

// echoServer answers every request with the body set last.
type echoServer struct {
	mu   sync.Mutex
	body []byte
}

func (s *echoServer) set(b []byte) {
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Write(s.body)
}

func fuzzClient(f *testing.F, h http.Handler) *alma.Client {
	srv := httptest.NewServer(h)
	f.Cleanup(srv.Close)
	c, err := alma.NewClient(srv.URL+"/almaws/v1", testKey, &alma.ClientOptions{
		RatePerSecond: math.Inf(1), MaxRetries: -1,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		f.Fatal(err)
	}
	return c
}

// FuzzFeeJSON feeds Alma fee objects to GetFee: whatever comes back
// without an error keeps R3.
func FuzzFeeJSON(f *testing.F) {
	f.Add(readTestdata(f, "rest/fee_lost.json"))
	f.Add(readTestdata(f, "rest/fee_refunded.json"))
	f.Add([]byte(`{"id":"1","type":{"value":"OTHER"},"status":{"value":"ACTIVE"},"balance":1e1,"original_amount":"10.00"}`))
	f.Add([]byte(`{"id":1,"type":"OTHER","status":"CLOSED","balance":0,"original_amount":3,"transaction":[{"type":{"value":"WAIVE"},"amount":3}]}`))
	s := &echoServer{}
	c := fuzzClient(f, s)
	f.Fuzz(func(t *testing.T, body []byte) {
		s.set(body)
		fee, err := c.GetFee(t.Context(), "u", "1")
		if err != nil {
			return
		}
		if err := fee.Check(); err != nil {
			t.Errorf("GetFee returned a fee that breaks R3: %v", err)
		}
		if fee.Status == fees.StatusTransferred && !fee.Transferred.Equal(fee.Balance) {
			t.Errorf("transferred %s, balance %s", fee.Transferred, fee.Balance)
		}
	})
}

// FuzzReportXML feeds Analytics pages to RunReport: it ends, with rows or
// an error, and never panics. The echo server repeats an unfinished page
// forever, so the callback stops the run after a while.
func FuzzReportXML(f *testing.F) {
	f.Add(readTestdata(f, "rest/report_page1.xml"))
	f.Add(readTestdata(f, "rest/report_page2.xml"))
	f.Add(readTestdata(f, "rest/error_429_daily.xml"))
	s := &echoServer{}
	c := fuzzClient(f, s)
	f.Fuzz(func(t *testing.T, body []byte) {
		s.set(body)
		rows := 0
		stop := errors.New("enough")
		err := c.RunReport(t.Context(), "/shared/r", func(row map[string]string) error {
			if rows++; rows > 10 {
				return stop
			}
			return nil
		})
		if rows > 11 || (rows > 10 && err != stop) {
			t.Errorf("%d rows, err %v: the callback's error did not stop the run", rows, err)
		}
	})
}
