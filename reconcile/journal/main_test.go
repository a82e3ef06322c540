package journal_test

import (
	"testing"

	"github.com/feebridge/feebridge/internal/pgtest"
)

// TestMain stops the PostgreSQL cluster a test of this package started.
func TestMain(m *testing.M) { pgtest.Main(m) }
