package alma

import (
	"math/rand/v2"
	"testing"

	"github.com/feebridge/feebridge/fees"
)

// TestBursarNumSet checks the set against a map over keys that include
// the one whose hash is 0, and enough keys to split tables many times.
func TestBursarNumSet(t *testing.T) {
	var s bursarNumSet
	want := map[uint64]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	keys := []uint64{0, 1, 1<<64 - 1}
	for range 200_000 {
		k := r.Uint64()
		if r.IntN(4) == 0 {
			k %= 50_000 // plenty of repeats
		}
		keys = append(keys, k)
	}
	// The key that mixes to 0.
	for _, k := range []uint64{0, unmix(0)} {
		keys = append(keys, k, k)
	}
	for i, k := range keys {
		if got := s.add(k); got != want[k] {
			t.Fatalf("add #%d (%d) = %v, want %v", i, k, got, want[k])
		}
		want[k] = true
	}
}

// unmix inverts mix.
func unmix(x uint64) uint64 {
	x ^= x>>31 ^ x>>62
	x *= 0x319642b2d24d8ec3
	x ^= x>>27 ^ x>>54
	x *= 0x96de1b173f119089
	x ^= x>>30 ^ x>>60
	return x
}

func TestMixInverse(t *testing.T) {
	for _, x := range []uint64{0, 1, 42, 1<<64 - 1, 15216075630006761} {
		if unmix(mix(x)) != x {
			t.Fatalf("unmix(mix(%d)) = %d", x, unmix(mix(x)))
		}
	}
}

// BenchmarkBursarNumSet adds a million Alma-like transaction ids.
func BenchmarkBursarNumSet(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var s bursarNumSet
		for i := range uint64(1_000_000) {
			if s.add(15216075630006761 + i*10000) {
				b.Fatal("false duplicate")
			}
		}
	}
}

// TestChargeKeySet: a pair is new once; the same id with another type, or
// another id, is new; an empty id is a key like any other.
func TestChargeKeySet(t *testing.T) {
	var k ChargeKeySet
	for _, c := range []struct {
		id   string
		typ  fees.Type
		seen bool
	}{
		{"100", fees.TypeOverdueFine, false},
		{"100", fees.TypeOverdueFine, true},
		{"100", fees.TypeLostItemProcessFee, false},
		{"0100", fees.TypeOverdueFine, false},
		{"abc", fees.TypeOverdueFine, false},
		{"abc", fees.TypeOverdueFine, true},
		{"", fees.TypeOverdueFine, false},
		{"", fees.TypeOverdueFine, true},
	} {
		if got := k.Add(c.id, c.typ); got != c.seen {
			t.Errorf("Add(%q, %s) = %v, want %v", c.id, c.typ, got, c.seen)
		}
	}
}
