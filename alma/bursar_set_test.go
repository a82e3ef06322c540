package alma

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/feebridge/feebridge/fees"
)

// TestBursarNumSet checks the set against a map over keys of every
// shape: the extremes, random keys with plenty of repeats, ids ascending
// and descending (runs filled at either end), close ids in random order
// (runs split in their middle) and differences of every uvarint width.
func TestBursarNumSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := []uint64{0, 1, 1<<64 - 1, 0, 1<<64 - 1}
	for range 100_000 {
		k := r.Uint64()
		if r.IntN(4) == 0 {
			k %= 50_000
		}
		keys = append(keys, k)
	}
	for i := range uint64(20_000) {
		keys = append(keys, 15216075630006761+i*10_000_000, 1<<40-i*3)
	}
	for range 50_000 {
		keys = append(keys, 1<<50+r.Uint64N(200_000))
	}
	// Alma-shaped ids, multiples of 10^7 apart, then ids between them
	// that break each run's step.
	for i := range uint64(5_000) {
		keys = append(keys, 9000000000006761+i*i%7919*10_000_000)
	}
	for i := range uint64(5_000) {
		keys = append(keys, 9000000000006761+i*i%7919*10_000_000+i%3)
	}
	for w := range 64 {
		keys = append(keys, 1<<62+uint64(1)<<w, 1<<62-uint64(1)<<w)
	}
	checkNumSet(t, keys)
}

// TestBursarNumSetShuffled adds the same keys in three orders.
func TestBursarNumSetShuffled(t *testing.T) {
	var keys []uint64
	for i := range uint64(30_000) {
		keys = append(keys, 9000000000006761+i*i*10_000, i)
	}
	for seed := range uint64(3) {
		r := rand.New(rand.NewPCG(seed, 7))
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		checkNumSet(t, append(keys, keys[:1000]...))
	}
}

func checkNumSet(t *testing.T, keys []uint64) {
	t.Helper()
	var s bursarNumSet
	want := map[uint64]bool{}
	for i, k := range keys {
		if got := s.add(k); got != want[k] {
			t.Fatalf("add #%d (%d) = %v, want %v", i, k, got, want[k])
		}
		want[k] = true
	}
	// The runs hold every key once, in order, each run at the width its
	// largest offset needs.
	var n int
	prev, first := uint64(0), true
	s.runs.Ascend(func(e runEntry) bool {
		r := e.run
		if e.first != r.first {
			t.Fatalf("run at %d in the tree at %d", r.first, e.first)
		}
		var step uint64
		for i := range r.len() {
			step = gcd(step, r.offset(i)*r.step)
		}
		if step != r.step {
			t.Fatalf("run at %d: step %d, the offsets' greatest common divisor %d", r.first, r.step, step)
		}
		if r.len() > 0 && offsetWidth(r.offset(r.len()-1)) != r.width {
			t.Fatalf("run at %d: width %d for offset %d", r.first, r.width, r.offset(r.len()-1))
		}
		for i := -1; i < r.len(); i++ {
			k := r.first
			if i >= 0 {
				k += r.offset(i) * r.step
			}
			if !first && k <= prev {
				t.Fatalf("key %d after %d", k, prev)
			}
			prev, first = k, false
			n++
		}
		return true
	})
	if m, _ := s.runs.Max(); m.run != s.max {
		t.Fatalf("the last run starts at %d, the set's max at %d", m.first, s.max.first)
	}
	if n != len(want) {
		t.Fatalf("the runs hold %d keys, want %d", n, len(want))
	}
}

// BenchmarkBursarNumSet adds a million ids of three shapes, in file
// order, and reports the bytes a key takes (the heap in use after a
// collection, less before): Alma-like ids in ascending order (the shape
// of a generated export), Alma-like ids 10^3 apart on average in random
// order (an export of a real library, its fees read user by user), and
// random 64-bit keys (the worst case).
func BenchmarkBursarNumSet(b *testing.B) {
	const n = 1_000_000
	r := rand.New(rand.NewPCG(3, 4))
	spread := make([]uint64, n)
	for i := range spread {
		spread[i] = 15216075630006761 + (uint64(i)*1000+r.Uint64N(1000))*10_000_000
	}
	r.Shuffle(n, func(i, j int) { spread[i], spread[j] = spread[j], spread[i] })
	random := make([]uint64, n)
	for i := range random {
		random[i] = r.Uint64()
	}
	for _, c := range []struct {
		name string
		key  func(i int) uint64
	}{
		{"ascending", func(i int) uint64 { return 100000000000 + uint64(i)*4 }},
		{"spread", func(i int) uint64 { return spread[i] }},
		{"random", func(i int) uint64 { return random[i] }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var bytes uint64
			for b.Loop() {
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				before := ms.HeapAlloc
				var s bursarNumSet
				for i := range n {
					if s.add(c.key(i)) {
						b.Fatal("false duplicate")
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&ms)
				bytes = ms.HeapAlloc - before
				runtime.KeepAlive(&s)
			}
			b.ReportMetric(float64(bytes)/n, "B/key")
		})
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
