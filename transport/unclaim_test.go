package transport_test

import (
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// TestInboxUnclaim: a claimed file goes back to the inbound folder, under
// a numbered name when a file of its name came meanwhile; PendingSplit
// tells claimed files from the others.
func TestInboxUnclaim(t *testing.T) {
	ctx := t.Context()
	d := memdrop.New()
	in := &transport.Inbox{Drop: d, Dir: "in"}
	if err := d.MkdirAll(ctx, "in"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"in/a.csv", "in/b.csv"} {
		if err := d.WriteFile(ctx, name, []byte(name)); err != nil {
			t.Fatal(err)
		}
	}
	a, err := in.Claim(ctx, "a.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, err := in.Claim(ctx, "b.csv")
	if err != nil {
		t.Fatal(err)
	}
	resumed, fresh, err := in.PendingSplit(ctx)
	if err != nil || len(resumed) != 2 || len(fresh) != 0 {
		t.Fatalf("PendingSplit = %v, %v, %v", resumed, fresh, err)
	}
	if to, err := in.Unclaim(ctx, a); err != nil || to != "a.csv" {
		t.Fatalf("Unclaim(a) = %q, %v", to, err)
	}
	if err := d.WriteFile(ctx, "in/b.csv", []byte("new b")); err != nil {
		t.Fatal(err)
	}
	if to, err := in.Unclaim(ctx, b); err != nil || to != "b.1.csv" {
		t.Fatalf("Unclaim(b) = %q, %v", to, err)
	}
	for name, want := range map[string]string{"in/a.csv": "in/a.csv", "in/b.csv": "new b", "in/b.1.csv": "in/b.csv"} {
		if got, err := d.ReadFile(ctx, name); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	resumed, fresh, err = in.PendingSplit(ctx)
	if err != nil || len(resumed) != 0 || len(fresh) != 3 {
		t.Errorf("PendingSplit after = %v, %v, %v", resumed, fresh, err)
	}
}
