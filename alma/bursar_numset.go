package alma

import (
	"math/bits"
	"slices"
	"sort"

	"github.com/google/btree"
)

// bursarNumSet is an exact set of uint64 kept in little memory when its
// keys lie close together, as the transaction ids of one Alma export do:
// the keys in ascending order, cut into runs of at most numRunBytes, the
// runs in a B-tree ordered by their first key. A run holds its first key
// and the offsets of the others from it, divided by their greatest common
// divisor (Alma's ids of one institution end in the same digits, so their
// differences are multiples of a power of ten), all of the same width, the
// fewest bytes that hold its largest: a byte or two for ids that follow
// each other or for Alma ids a thousand numbers apart, eight at worst.
// Adding a key searches the tree, then the run's offsets. A full
// run is split in two, except that a key past the set's last key starts
// a new run, so ids added in ascending order fill their runs. The
// README's "Converting an export at disk speed" gives the bytes a key
// takes for close, spread and random ids.
type bursarNumSet struct {
	runs    *btree.BTreeG[runEntry]
	found   runEntry              // what the search found
	find    func(e runEntry) bool // the search's iterator, made once
	scratch []uint64              // the keys of a run being rewritten
	max     *numRun               // the run of the greatest first key
	recent  *numRun               // the run the last search found
}

// runEntry is a run in the tree, its first key beside it so that the
// search compares keys without reading the runs.
type runEntry struct {
	first uint64
	run   *numRun
}

// numRun is one run of keys: first, then first+o*step for each o of offs,
// ascending, each width bytes little-endian. step is the greatest common
// divisor of the keys' offsets from first, 0 while the run holds first
// alone.
type numRun struct {
	first, step uint64
	width       int
	offs        []byte
}

const (
	numRunBytes  = 512 // a run's offsets are split past this size
	numTreeOrder = 32  // the B-tree's degree
)

// add inserts key and reports whether it was already there.
func (s *bursarNumSet) add(key uint64) bool {
	if s.runs == nil {
		s.runs = btree.NewG(numTreeOrder, func(a, b runEntry) bool { return a.first < b.first })
		s.find = func(e runEntry) bool { s.found = e; return false }
	}
	r := s.lookup(key)
	if r == nil {
		s.addFirst(key)
		return false
	}
	if key == r.first {
		return true
	}
	off := key - r.first
	var i int // where key goes among r's offsets
	rewrite := r.step == 0 || off%r.step != 0
	if rewrite { // key is not in r, whose step it does not fit
		i = sort.Search(r.len(), func(j int) bool { return r.offset(j)*r.step > off })
	} else {
		var found bool
		if i, found = r.search(off / r.step); found {
			return true
		}
		rewrite = offsetWidth(off/r.step) > r.width
	}
	if i == r.len() && len(r.offs) >= numRunBytes {
		if r == s.max {
			s.newRun(key)
			return false
		}
	}
	if rewrite {
		s.scratch = slices.Insert(s.keys(r), i, key)
		r.encode(r.first, s.scratch, numRunBytes/8)
	} else {
		r.insertAt(i, off/r.step)
	}
	if len(r.offs) > numRunBytes {
		s.split(r)
	}
	return false
}

// lookup returns the run of the greatest first key at or below key, nil
// if there is none. Runs do not overlap, so where key is past the first
// key of the last run, or within the run the last search found, the tree
// is not searched: ids added in ascending order, and ids close to the
// previous one, cost no search.
func (s *bursarNumSet) lookup(key uint64) *numRun {
	if s.max != nil && key >= s.max.first {
		return s.max
	}
	if r := s.recent; r != nil && key >= r.first && key <= r.last() {
		return r
	}
	s.found = runEntry{}
	s.runs.DescendLessOrEqual(runEntry{first: key}, s.find)
	s.recent = s.found.run
	return s.recent
}

// addFirst adds key below every key of the set.
func (s *bursarNumSet) addFirst(key uint64) {
	m, ok := s.runs.Min()
	if !ok || len(m.run.offs) >= numRunBytes {
		s.newRun(key)
		return
	}
	s.runs.Delete(m)
	s.scratch = slices.Insert(s.keys(m.run), 0, m.first)
	m.run.encode(key, s.scratch, numRunBytes/8)
	s.runs.ReplaceOrInsert(runEntry{key, m.run})
}

// newRun adds a run of key alone, with room for a full run's offsets (at
// one or two bytes each, the width of ids added in ascending order).
func (s *bursarNumSet) newRun(key uint64) {
	r := &numRun{first: key, width: 1, offs: make([]byte, 0, numRunBytes+8)}
	s.runs.ReplaceOrInsert(runEntry{key, r})
	if s.max == nil || key > s.max.first {
		s.max = r
	}
}

// last is r's last key.
func (r *numRun) last() uint64 {
	if len(r.offs) == 0 {
		return r.first
	}
	return r.first + r.offset(r.len()-1)*r.step
}

// len is the number of offsets of r.
func (r *numRun) len() int { return len(r.offs) / r.width }

// offset is r's offset i.
func (r *numRun) offset(i int) uint64 {
	b := r.offs[i*r.width : (i+1)*r.width]
	var x uint64
	for j := len(b) - 1; j >= 0; j-- {
		x = x<<8 | uint64(b[j])
	}
	return x
}

// search finds off, in steps, among r's offsets: its index, or the index
// it would take, and whether it is there.
func (r *numRun) search(off uint64) (int, bool) {
	lo, hi := 0, r.len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch o := r.offset(m); {
		case o == off:
			return m, true
		case o < off:
			lo = m + 1
		default:
			hi = m
		}
	}
	return lo, false
}

// insertAt inserts off, in steps and of r's width at most, as offset i. The offsets
// grow by an eighth at a time, not double, so that a run wastes little.
func (r *numRun) insertAt(i int, off uint64) {
	n, w := len(r.offs), r.width
	if n+w > cap(r.offs) {
		grown := make([]byte, n, n+w+n/8)
		copy(grown, r.offs)
		r.offs = grown
	}
	r.offs = r.offs[:n+w]
	copy(r.offs[(i+1)*w:], r.offs[i*w:n])
	putOffset(r.offs[i*w:(i+1)*w], off)
}

// keys returns r's keys after its first, in s's scratch slice.
func (s *bursarNumSet) keys(r *numRun) []uint64 {
	keys := s.scratch[:0]
	for i := range r.len() {
		keys = append(keys, r.first+r.offset(i)*r.step)
	}
	s.scratch = keys
	return keys
}

// encode sets r to first and keys, the keys after it in ascending order,
// in steps of the greatest common divisor of their offsets, at the width
// the largest needs, with room for spare bytes more. It writes into r's
// offsets where they have the room.
func (r *numRun) encode(first uint64, keys []uint64, spare int) {
	r.first, r.step, r.width = first, 0, 1
	for _, k := range keys {
		r.step = gcd(r.step, k-first)
	}
	if len(keys) > 0 {
		r.width = offsetWidth((keys[len(keys)-1] - first) / r.step)
	}
	n := len(keys) * r.width
	if cap(r.offs) < n {
		r.offs = make([]byte, n, n+spare)
	}
	r.offs = r.offs[:n]
	for i, k := range keys {
		putOffset(r.offs[i*r.width:(i+1)*r.width], (k-first)/r.step)
	}
}

// split cuts r in two at its middle key, each half in offsets of its own
// with room for an eighth more.
func (s *bursarNumSet) split(r *numRun) {
	keys := s.keys(r)
	m := len(keys) / 2
	right := new(numRun)
	right.encode(keys[m], keys[m+1:], numRunBytes/16)
	r.offs = nil
	r.encode(r.first, keys[:m], numRunBytes/16)
	s.runs.ReplaceOrInsert(runEntry{right.first, right})
	if r == s.max {
		s.max = right
	}
}

// gcd is the greatest common divisor of a and b; gcd(0, b) is b.
func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// offsetWidth is the number of bytes that hold off, at least one.
func offsetWidth(off uint64) int { return max(1, (bits.Len64(off)+7)/8) }

// putOffset writes off into b, little-endian.
func putOffset(b []byte, off uint64) {
	for j := range b {
		b[j] = byte(off)
		off >>= 8
	}
}
