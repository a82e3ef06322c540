package main

import (
	"testing"

	"github.com/feebridge/feebridge/internal/pgtest"
)

// TestMain stops the PostgreSQL cluster the tests may have started
// (internal/pgtest) when they are done.
func TestMain(m *testing.M) { pgtest.Main(m) }
