package instance_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/reconcile/instance"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// Two instances over one journal, on a clock of the example's own: a
// takes the active lease and is then killed without releasing it; b
// tries the lease when told to, and gets it when a's lease expires, not
// before.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 9, 14, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	j, err := journal.OpenMemory(ctx, &journal.Options{Now: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer j.Close()
	a := &instance.Instance{Store: j, TTL: time.Minute, Now: clock}
	b := &instance.Instance{Store: j, TTL: time.Minute, Now: clock}

	l, _, err := a.Take(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("a holds the lease until %s, token %d\n", l.Expires.Format("15:04:05"), l.Token)
	now = now.Add(25 * time.Second) // a is killed: its lease stays
	for {
		l, wait, err := b.Take(ctx)
		if errors.Is(err, journal.ErrLocked) {
			fmt.Printf("%s b waits %s\n", now.Format("15:04:05"), wait)
			now = now.Add(wait)
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s b holds the lease, token %d\n", now.Format("15:04:05"), l.Token)
		return
	}
	// Output:
	// a holds the lease until 18:01:00, token 1
	// 18:00:25 b waits 20s
	// 18:00:45 b waits 15s
	// 18:01:00 b holds the lease, token 2
}
