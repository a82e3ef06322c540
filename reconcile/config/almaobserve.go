package config

import (
	"context"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile"
)

// ObserveAlma returns the alma.ClientOptions.Observe of a client that
// feeds the run history: each call is added to the run's tally, if its
// context carries one (reconcile.WithAlmaTally), then passed to next, if
// not nil (metrics). Open gives it to the clients it builds; a program
// that builds its own client (Options.AlmaClient) gives it there.
func ObserveAlma(next func(ctx context.Context, c alma.Call)) func(ctx context.Context, c alma.Call) {
	return func(ctx context.Context, c alma.Call) {
		reconcile.CountAlmaCall(ctx, c.Remaining)
		if next != nil {
			next(ctx, c)
		}
	}
}
