// Package exportlint checks a sample of Alma's bursar export against the
// export policy a district states (a minimum amount, a minimum age, user
// groups left out, the owning libraries and the fee types it bills) and
// names every fee that the policy would not have sent, with the reason and
// the option of Alma's bursar integration profile to fix.
//
// It only reads. The filters belong in Alma's profile, which applies them
// before the export: once Alma has exported a fee it marks it Transferred,
// and a fee dropped after that is paid nowhere and lost from both books.
// So feebridge never drops an exported fee itself; this package helps a
// district see where its profile and its policy part.
//
// [Lint] streams one export file through a [Policy] and reports each
// [Warning] as it finds it, then a [Summary] with a count per [Reason]
// ([Reason.Hint] says which profile option to look at). The export does not
// carry the user's group: [ReadUserGroups] reads it from a CSV of users
// (an Analytics report or a user extract), and without one the user-group
// check is counted as not done, never guessed.
package exportlint
