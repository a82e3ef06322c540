// Package process tells whether a process of this host still runs, so that
// the journal's locks and the jobs' temporary files left by a killed
// process can be taken over or removed at once.
package process
