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

// A district whose colleges share one PeopleSoft lists them; the mapping
// then routes each fee by the library that owns it.
func ExampleCollege() {
	text := `journal = "/srv/feesync/journal.db"
[library]
type = "dir"
path = "/srv/library"
[peoplesoft]
type = "dir"
path = "/srv/peoplesoft"

[[colleges]]
name = "ARC"
business_unit = "ARC01"
libraries = ["ARC"]

[[colleges]]
name = "CRC"
business_unit = "CRC01"
libraries = ["CRC", "CRCELK"]
item_types = { OVERDUEFINE = "410000000001" }
`
	cfg, err := config.Parse(strings.NewReader(text), "feesync.toml")
	if err != nil {
		log.Fatal(err)
	}
	m := cfg.Mapping()
	for _, lib := range []string{"ARC", "CRCELK", "DO"} {
		c, ok := m.CollegeOf(lib)
		fmt.Println(lib, "→", c.Name, c.BusinessUnit, ok)
	}

	// A library mapped twice is a mistake check-config names.
	_, err = config.Parse(strings.NewReader(text+`
[[colleges]]
name = "SCC"
business_unit = "SCC01"
libraries = ["ARC"]
`), "feesync.toml")
	fmt.Println(err)
	// Output:
	// ARC → ARC ARC01 true
	// CRCELK → CRC CRC01 true
	// DO →   false
	// feesync.toml:23: colleges[2].libraries: library "ARC" is already mapped to college ARC: a library belongs to one college
}
