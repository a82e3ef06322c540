package transport_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

func ExampleDrop() {
	ctx := context.Background()
	drop := memdrop.New()
	defer drop.Close()

	if err := drop.MkdirAll(ctx, "outbound"); err != nil {
		fmt.Println(err)
		return
	}
	// Put writes under a hidden temporary name and renames it into place,
	// so the bursar's loader never picks up half a file.
	err := drop.Put(ctx, "outbound/charges-20240901.dat", strings.NewReader("H|2|24.50\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	list, err := drop.List(ctx, "outbound")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fi := range list {
		fmt.Println(fi.Name, fi.Size)
	}

	_, err = drop.ReadFile(ctx, "outbound/missing.dat")
	fmt.Println(transport.ErrorCode(err))
	_, err = drop.ReadFile(ctx, "../etc/passwd")
	fmt.Println(transport.ErrorCode(err))
	// Output:
	// charges-20240901.dat 10
	// not found
	// invalid name
}

func ExampleInbox() {
	ctx := context.Background()
	drop := memdrop.New()
	_ = drop.MkdirAll(ctx, "inbound")
	_ = drop.WriteFile(ctx, "inbound/payments-1.csv", []byte("EMPLID,REF,AMOUNT\n"))
	_ = drop.WriteFile(ctx, "inbound/payments-2.csv", []byte("garbage"))

	in := &transport.Inbox{Drop: drop, Dir: "inbound"}
	pending, _ := in.Pending(ctx)
	for _, fi := range pending {
		c, err := in.Claim(ctx, fi.Name)
		if err != nil {
			fmt.Println(err)
			return
		}
		data, _ := drop.ReadFile(ctx, c.Path)
		if strings.HasPrefix(string(data), "EMPLID") {
			err = in.Done(ctx, c)
		} else {
			err = in.Fail(ctx, c, "no header line")
		}
		if err != nil {
			fmt.Println(err)
		}
	}
	for _, dir := range []string{"inbound/done", "inbound/failed"} {
		list, _ := drop.List(ctx, dir)
		for _, fi := range list {
			fmt.Println(dir + "/" + fi.Name)
		}
	}
	// Output:
	// inbound/done/payments-1.csv
	// inbound/failed/payments-2.csv
	// inbound/failed/payments-2.csv.reason.txt
}

func ExampleErrorCode() {
	drop := memdrop.New()
	err := drop.Remove(context.Background(), "never-written.csv")
	switch transport.ErrorCode(err) {
	case transport.NotFound:
		fmt.Println("nothing to remove")
	case transport.Transient:
		fmt.Println("try again later")
	default:
		fmt.Println(err)
	}
	// Output: nothing to remove
}
