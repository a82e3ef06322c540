package memdrop_test

import (
	"context"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/transport/memdrop"
)

func ExampleNewWithOptions() {
	// The sandbox runs on a simulated clock; files carry its time.
	clock := time.Date(2024, 9, 2, 18, 0, 0, 0, time.UTC)
	drop := memdrop.NewWithOptions(&memdrop.Options{Now: func() time.Time { return clock }})
	ctx := context.Background()
	_ = drop.WriteFile(ctx, "export.xml", []byte("<fees/>"))
	fi, _ := drop.Stat(ctx, "export.xml")
	fmt.Println(fi.Name, fi.Size, fi.ModTime.Format(time.RFC3339))
	// Output: export.xml 7 2024-09-02T18:00:00Z
}
