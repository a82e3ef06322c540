package localdrop_test

import (
	"context"
	"fmt"
	"os"

	"github.com/feebridge/feebridge/transport/localdrop"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "district")
	defer os.RemoveAll(dir)

	drop, err := localdrop.Open(dir, &localdrop.Options{Create: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drop.Close()
	ctx := context.Background()
	_ = drop.MkdirAll(ctx, "outbound")
	_ = drop.WriteFile(ctx, "outbound/charges.dat", []byte("H|0|0.00\n"))
	data, _ := os.ReadFile(dir + "/outbound/charges.dat")
	fmt.Printf("%q\n", data)
	// Output: "H|0|0.00\n"
}
