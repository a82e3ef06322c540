package institutions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// siteConfig is the smallest config an institution's file can hold.
const siteConfig = `journal = "j.db"
[library]
type = "dir"
path = "/srv/lib"
[peoplesoft]
type = "dir"
path = "/srv/ps"
`

func writeFile(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"sac", "crc-2", "0a"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "SAC", "-x", "a_b", "a.b", "a/b", "é", "a b"} {
		if err := CheckName(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "sac.toml", siteConfig)
	writeFile(t, dir, "arc.toml", siteConfig)
	writeFile(t, dir, "_deployment.toml", "not = an institution")
	writeFile(t, dir, "notes.txt", "ignored")
	d, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	if len(d.Institutions) != 2 || d.Institutions[0].Name != "arc" || d.Institutions[1].Name != "sac" || d.Institutions[0].Config == nil {
		t.Fatalf("got %+v", d.Institutions)
	}
	// Each institution's relative journal is its own file, next to its config.
	if got := d.Institutions[0].Config.Journal; got != filepath.Join(dir, "j.db") {
		t.Errorf("arc's journal %q", got)
	}

	writeFile(t, dir, "Bad_Name.toml", siteConfig)
	writeFile(t, dir, "broken.toml", siteConfig+"\nno_such_key = 1\n")
	d, err = ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Institutions) != 2 || len(d.Refused) != 2 {
		t.Fatalf("got %d institutions, %d refused; want 2 and 2", len(d.Institutions), len(d.Refused))
	}
	msg := d.Err().Error()
	for _, want := range []string{"Bad_Name.toml", "broken.toml", "no_such_key", "lower-case"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	if strings.Count(msg, "broken.toml") != 1 {
		t.Errorf("the file is named more than once: %q", msg)
	}

	if _, err := ReadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no institution config") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := ReadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing dir accepted")
	}
}

func TestSameTellsAChangedFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "sac.toml", siteConfig)
	a, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ReadDir(dir)
	if !a.Institutions[0].Same(b.Institutions[0]) {
		t.Error("the same file read twice is not Same")
	}
	writeFile(t, dir, "sac.toml", siteConfig+"# changed\n")
	c, _ := ReadDir(dir)
	if a.Institutions[0].Same(c.Institutions[0]) {
		t.Error("a changed file is Same")
	}
}

func removeFile(dir, name string) error { return os.Remove(filepath.Join(dir, name)) }
