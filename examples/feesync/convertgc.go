package main

import "runtime/debug"

// limitExportMemory is limitMemory(exportMemoryLimit) for convert
// alma-export, with one more setting: where feesync sets the soft limit
// itself (GOMEMLIMIT unset) and GOGC is unset, the collector's growth
// target is turned off (as GOGC=off does), so that the heap is collected
// only when it nears the soft limit. The heap of a conversion is buffers
// and the decoder's key set, a few megabytes below the limit: with the
// default target (GOGC=100) the collector ran every few megabytes
// allocated, about 1.3 KB a fee; with the limit alone it runs every 10 to
// 15 MB, at the same peak resident size as a million fees reach anyway
// (about 31 MB: flat from 100,000 to 1,000,000 fees). A live heap over
// the limit (several million fees) is collected as often as before: the
// limit was already the target there. It returns the function that
// restores both settings.
func (m *Main) limitExportMemory() func() {
	restoreLimit := m.limitMemory(exportMemoryLimit)
	if m.Getenv("GOMEMLIMIT") != "" || m.Getenv("GOGC") != "" {
		return restoreLimit
	}
	old := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(old)
		restoreLimit()
	}
}
