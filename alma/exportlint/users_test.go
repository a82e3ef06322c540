package exportlint_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma/exportlint"
)

func TestReadUserGroups(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
	}{
		{"analytics headings", "Primary Identifier,User Group Code,User Group\n10012345,UNDERGRAD,Undergraduate\n", map[string]string{"10012345": "UNDERGRAD"}},
		{"no group heading", "group ; x,id\r\nSTAFF ; x,2\r\n", nil},
		{"plain headings, CRLF, BOM", "\ufeffgroup,id\r\nSTAFF,2\r\nGRAD,3\r\n", map[string]string{"2": "STAFF", "3": "GRAD"}},
		{"same user twice, same group", "id,user_group\n1,A\n1,a\n", map[string]string{"1": "A"}},
		{"quoted fields", "id,user_group\n\"1,5\",\"A \"\"B\"\"\"\n", map[string]string{"1,5": `A "B"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exportlint.ReadUserGroups(strings.NewReader(tc.in), "users.csv")
			if tc.want == nil {
				if err == nil {
					t.Fatalf("no error for %q", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadUserGroupsHostile: every bad line is named with file and line,
// and the good lines around it are still read.
func TestReadUserGroupsHostile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		wantErr  []string
		wantRead int
	}{
		{"empty file", "", []string{"users.csv:1:", "no heading line"}, 0},
		{"no group column", "id,name\n1,x\n", []string{"users.csv:1:", "no user group column"}, 0},
		{"short line", "id,name,user_group\n1,x,A\n2\n3,y,B\n", []string{"users.csv:3:", "fewer than the heading's columns"}, 2},
		{"no identifier", "id,user_group\n,A\n2,B\n", []string{"users.csv:2:", "no identifier"}, 1},
		{"no group", "id,user_group\n1,\n2,B\n", []string{"users.csv:2:", "no user group"}, 1},
		{"two groups", "id,user_group\n10012345,A\n10012345,B\n", []string{"users.csv:3:", "*****345 has group B here and A on line 2"}, 1},
		{"bare quote", "id,user_group\n1,A\"x\n2,B\n", []string{"users.csv:2:", "bare \" in non-quoted-field"}, 1},
		{"two bad lines", "id,user_group\n,A\n2,\n3,C\n", []string{"users.csv:2:", "users.csv:3:"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exportlint.ReadUserGroups(strings.NewReader(tc.in), "users.csv")
			if err == nil || !errors.Is(err, exportlint.ErrUsersFile) {
				t.Fatalf("err = %v, want an ErrUsersFile", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "10012345") {
				t.Errorf("error %q shows a user id whole", err)
			}
			if len(got) != tc.wantRead {
				t.Errorf("read %d users, want %d: %v", len(got), tc.wantRead, got)
			}
		})
	}
}
