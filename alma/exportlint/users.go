package exportlint

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/feebridge/feebridge/fees"
)

// The headings [ReadUserGroups] recognises, compared without regard to
// case or surrounding space: those of Alma Analytics' Users subject area
// ("Primary Identifier", "User Group Code") and plain ones.
var (
	idHeadings    = []string{"primary identifier", "identifier", "user id", "user_id", "id"}
	groupHeadings = []string{"user group code", "user_group_code", "user group", "user_group", "group"}
)

// ErrUsersFile is the cause of every error of [ReadUserGroups].
var ErrUsersFile = errors.New("bad users file")

// ReadUserGroups reads a CSV of users, one a line, with a heading line
// that names the identifier column and the user group column (other
// columns are ignored), and returns each identifier's group code. The
// identifier must be the one the export carries (the profile's match
// identifier). A line without an identifier or a group, or with an
// identifier already given another group, is an error naming file and
// line; the other lines are still read, and the error lists every bad
// line.
func ReadUserGroups(r io.Reader, file string) (map[string]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w: no heading line: %v", file, ErrUsersFile, err)
	}
	idCol, groupCol := column(head, idHeadings), column(head, groupHeadings)
	if idCol < 0 || groupCol < 0 {
		return nil, fmt.Errorf("%s:1: %w: the heading names no identifier column (%s) or no user group column (%s)",
			file, ErrUsersFile, strings.Join(idHeadings, ", "), strings.Join(groupHeadings, ", "))
	}
	groups := map[string]string{}
	firstLine := map[string]int{}
	var errs []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return groups, errors.Join(errs...)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			errs = append(errs, fmt.Errorf("%s:%d: %w: %v", file, pe.Line, ErrUsersFile, pe.Err))
			continue
		} else if err != nil {
			return groups, fmt.Errorf("%s: %w", file, err)
		}
		line, _ := cr.FieldPos(0)
		if err := addUser(groups, firstLine, rec, idCol, groupCol, line); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w: %v", file, line, ErrUsersFile, err))
		}
	}
}

// addUser records the group of the user on one line.
func addUser(groups map[string]string, firstLine map[string]int, rec []string, idCol, groupCol, line int) error {
	if idCol >= len(rec) || groupCol >= len(rec) {
		return fmt.Errorf("%d fields, fewer than the heading's columns", len(rec))
	}
	id, group := strings.TrimSpace(rec[idCol]), strings.TrimSpace(rec[groupCol])
	switch old, seen := groups[id]; {
	case id == "":
		return errors.New("no identifier")
	case group == "":
		return errors.New("no user group")
	case seen && !strings.EqualFold(old, group):
		return fmt.Errorf("user %s has group %s here and %s on line %d", fees.MaskID(id), group, old, firstLine[id])
	case !seen:
		groups[id], firstLine[id] = group, line
	}
	return nil
}

// column is the index of the first heading in names, or -1.
func column(head, names []string) int {
	for _, name := range names {
		for i, h := range head {
			h = strings.TrimPrefix(h, "\ufeff")
			if strings.EqualFold(strings.TrimSpace(h), name) {
				return i
			}
		}
	}
	return -1
}
