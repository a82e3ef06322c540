// Package institutions serves many Alma institutions from one deployment
// (`feesync serve -config-dir DIR`): one config file per institution in a
// folder, each institution opened and run on its own, with its own
// journal, Alma client, rate limiter, quota and schedules.
//
// An institution here is an Alma institution of its own (its own API key,
// file drops, PeopleSoft folders and journal). It is not one of the
// [[colleges]] of a district config, which share one Alma and are told
// apart by business unit. The metrics name an institution by the label
// "college", the word consortium staff use for it.
//
// [ReadDir] reads the folder: each *.toml is one institution, named by the
// file's base name. A [Deployment] runs them: it opens each with the
// program's [Opener], runs each [Unit] in goroutines of its own (one
// institution's failure, panic, slow drop or throttled Alma holds up no
// other), routes Alma's webhooks by path (/webhooks/alma/NAME) to the
// institution's own handler, gathers every institution's metrics with its
// label, and applies a new reading of the folder ([Deployment.Apply]):
// starting what was added, stopping what was removed, restarting what
// changed, and nothing else.
package institutions
