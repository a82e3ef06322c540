package main

// hashSet is a set of 64-bit hashes in one flat table with linear probing:
// 8 bytes a slot and at most 2 slots an entry, a third of what a Go map of
// the same keys takes. convert keeps one hash per transaction id in it to
// notice a repeated id in a file of millions of fees.
type hashSet struct {
	slots []uint64 // 0 marks an empty slot
	n     int
}

// add puts h in the set and reports whether it was there already.
func (s *hashSet) add(h uint64) (had bool) {
	if h == 0 {
		h = 1 // 0 marks an empty slot; 1 stands for it (a collision is only a warning)
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			s.slots[i] = h
			s.n++
			return false
		}
	}
}

func (s *hashSet) grow() {
	old := s.slots
	size := max(1024, 2*len(old))
	s.slots = make([]uint64, size)
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}
