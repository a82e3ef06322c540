package institutions_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/reconcile/institutions"
)

// idle is an institution that waits for its context to end; a program's
// unit runs its jobs on their schedules instead.
type idle struct{}

func (idle) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (idle) Webhook() http.Handler         { return nil }

func Example() {
	dir, _ := os.MkdirTemp("", "consortium-")
	defer os.RemoveAll(dir)
	site := "journal = \"journal.db\"\n[library]\ntype = \"dir\"\npath = \"/srv/lib\"\n" +
		"[peoplesoft]\ntype = \"dir\"\npath = \"/srv/ps\"\n"
	for _, name := range []string{"arc.toml", "sac.toml"} {
		os.WriteFile(filepath.Join(dir, name), []byte(site), 0o600)
	}

	d := institutions.New(func(ctx context.Context, inst institutions.Institution, reg prometheus.Registerer) (institutions.Unit, error) {
		return idle{}, nil // a program opens inst.Config's jobs here
	}, nil)
	folder, err := institutions.ReadDir(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := d.Start(context.Background(), folder); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("running:", d.Names())

	// A reload: crc is added; arc and sac, unchanged, are not touched.
	os.WriteFile(filepath.Join(dir, "crc.toml"), []byte(site), 0o600)
	folder, _ = institutions.ReadDir(dir)
	ch := d.Apply(context.Background(), folder)
	fmt.Println("started:", ch.Started, "restarted:", ch.Restarted)
	d.Stop()
	// Output:
	// running: [arc sac]
	// started: [crc] restarted: []
}
