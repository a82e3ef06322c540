package fees

import "strings"

// MaskID hides a student id for logs, error strings and anything else read
// by people who need to tell two records apart but not who they are: every
// character but the last three becomes a star, "12345678" is "*****678".
// An id of six characters or fewer is starred whole, so that no more than
// three characters and never half of an id show. It is the one masking
// rule of feebridge: every package that shows a student id uses it, so
// that two logs laid side by side reveal no more than either.
func MaskID(id string) string {
	r := []rune(id)
	if len(r) <= 6 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-3) + string(r[len(r)-3:])
}
