package config_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/feebridge/feebridge/reconcile/config"
)

// A program reads its config, opens the jobs it names and runs one. Here
// both drops are folders and the Alma API is left out, so that no secret
// is needed.
func Example() {
	dir, err := os.MkdirTemp("", "feebridge-config-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"library/exports", "peoplesoft/inbound"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			log.Fatal(err)
		}
	}
	text := `journal = "journal.db" # in the config file's folder
timezone = "America/Los_Angeles"

[library]
type = "dir"
path = "` + filepath.Join(dir, "library") + `"

[peoplesoft]
type = "dir"
path = "` + filepath.Join(dir, "peoplesoft") + `"
`
	cfg, err := config.Parse(strings.NewReader(text), filepath.Join(dir, "feesync.toml"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("journal:", filepath.Base(cfg.Journal), "charges at:", cfg.Schedules.Charges)

	ctx := context.Background()
	// A new site: Open creates the journal (feesync init does it once;
	// without CreateJournal, Open refuses a missing journal).
	setup, err := config.Open(ctx, cfg, &config.Options{NoAlma: true, CreateJournal: true})
	if err != nil {
		log.Fatal(err)
	}
	defer setup.Close()
	res, err := setup.Jobs.Charges(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("export files:", res.Files)
	// Output:
	// journal: journal.db charges at: 30 18 * * *
	// export files: 0
}
