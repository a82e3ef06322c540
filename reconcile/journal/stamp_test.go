package journal_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestMustExist shows that a journal opened with MustExist is never
// created: a missing or empty (0 bytes) file is refused, naming the path,
// and nothing is created there.
func TestMustExist(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	missing := filepath.Join(dir, "journal.db")
	_, err := journal.Open(ctx, missing, &journal.Options{MustExist: true})
	if !errors.Is(err, journal.ErrNoJournal) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Open(missing) = %v, want ErrNoJournal naming %s", err, missing)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open(missing) left a file: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = journal.Open(ctx, empty, &journal.Options{MustExist: true})
	if !errors.Is(err, journal.ErrNoJournal) || !strings.Contains(err.Error(), empty) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("Open(empty) = %v, want ErrNoJournal naming %s", err, empty)
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Fatalf("Open(empty) wrote %d bytes", fi.Size())
	}

	// Create makes it; then MustExist opens it, and Create refuses it.
	j, err := journal.Create(ctx, missing, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := j.Stamp(ctx)
	if err != nil || len(st.Journal) != 32 || st.Seq != 0 {
		t.Fatalf("Stamp of a new journal = %+v, %v; want a 32-hex id and sequence 0", st, err)
	}
	j.Close()
	j, err = journal.Open(ctx, missing, &journal.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if _, err := journal.Create(ctx, missing, nil); !errors.Is(err, journal.ErrJournalExists) {
		t.Fatalf("Create over a journal = %v, want ErrJournalExists", err)
	}
}

// TestPublishSequenceAndAcceptance shows that each published file takes
// the next sequence, and that accepting a mark of the same journal ahead
// of it raises the sequence and is kept as an audit row.
func TestPublishSequenceAndAcceptance(t *testing.T) {
	ctx := t.Context()
	j, err := journal.Create(ctx, filepath.Join(t.TempDir(), "journal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for i := 1; i <= 2; i++ {
		id, err := j.AddFile(ctx, journal.FileRecord{Job: "charges", Name: fmt.Sprint("e", i), SHA256: fmt.Sprint(i),
			Status: journal.FilePublishing, Output: fmt.Sprint("inbound/c", i)})
		if err != nil {
			t.Fatal(err)
		}
		st, err := j.PublishFile(ctx, journal.FileRecord{ID: id, Job: "charges", Name: fmt.Sprint("e", i),
			Status: journal.FilePublishing, Output: fmt.Sprint("inbound/c", i)})
		if err != nil || st.Seq != int64(i) {
			t.Fatalf("PublishFile %d = %+v, %v", i, st, err)
		}
	}
	files, _ := j.Files(ctx, "charges")
	if files[1].Status != journal.FilePublished {
		t.Fatalf("status = %s", files[1].Status)
	}
	if ok, _ := j.KnowsOutput(ctx, "inbound/c2"); !ok {
		t.Fatal("KnowsOutput(inbound/c2) = false")
	}
	st, _ := j.Stamp(ctx)
	if err := j.Accept(ctx, journal.Acceptance{Mark: "m", MarkJournal: st.Journal, MarkSeq: 7}); err == nil {
		t.Fatal("Accept without a reason succeeded")
	}
	if err := j.Accept(ctx, journal.Acceptance{Mark: "m", MarkJournal: st.Journal, MarkSeq: 7,
		Unknown: []string{"inbound/c5", "inbound/c6"}, Reason: "restored Monday's backup"}); err != nil {
		t.Fatal(err)
	}
	if st2, _ := j.Stamp(ctx); st2.Seq != 7 {
		t.Fatalf("sequence after acceptance = %d, want 7", st2.Seq)
	}
	if ok, _ := j.Accepted(ctx, st.Journal, 7); !ok {
		t.Fatal("Accepted = false")
	}
	as, err := j.Acceptances(ctx)
	if err != nil || len(as) != 1 || as[0].JournalSeq != 2 || len(as[0].Unknown) != 2 || as[0].Reason != "restored Monday's backup" {
		t.Fatalf("Acceptances = %+v, %v", as, err)
	}
}

// TestBackupWhileWriting takes backups while another goroutine writes to
// the journal: each copy opens, passes SQLite's integrity check, keeps
// the journal's identity and holds a prefix of the writes. A backup never
// writes over an existing file.
func TestBackupWhileWriting(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	j, err := journal.Create(ctx, filepath.Join(dir, "journal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	want, _ := j.Stamp(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var werr error
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := j.AddFile(ctx, journal.FileRecord{Job: "charges", Name: fmt.Sprint("f", i), SHA256: fmt.Sprint(i), Status: journal.FileDone}); err != nil {
				werr = err
				return
			}
		}
	}()
	for i := range 5 {
		path := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		if err := j.Backup(ctx, path); err != nil {
			t.Fatal(err)
		}
		b, err := journal.Open(ctx, path, &journal.Options{MustExist: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Check(ctx); err != nil {
			t.Errorf("backup %d: %v", i, err)
		}
		if st, _ := b.Stamp(ctx); st.Journal != want.Journal {
			t.Errorf("backup %d: journal id %s, want %s", i, st.Journal, want.Journal)
		}
		files, err := b.Files(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for k, f := range files {
			if f.Name != fmt.Sprint("f", k) {
				t.Fatalf("backup %d: file %d is %s: not a prefix of the writes", i, k, f.Name)
			}
		}
		b.Close()
	}
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	existing := filepath.Join(dir, "backup-0.db")
	before, _ := os.ReadFile(existing)
	if err := j.Backup(ctx, existing); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Backup over an existing file = %v, want it refused", err)
	}
	if after, _ := os.ReadFile(existing); string(after) != string(before) {
		t.Fatal("Backup changed an existing file")
	}
}

// TestKnowsOutputOfSeveral: a file published as one output per college
// names them one a line; each is known, a name that is only a piece of
// one is not, and the LIKE wildcards in a name match only themselves.
func TestKnowsOutputOfSeveral(t *testing.T) {
	ctx := t.Context()
	j, err := journal.Create(ctx, filepath.Join(t.TempDir(), "journal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.AddFile(ctx, journal.FileRecord{Job: "charges", Name: "e1", SHA256: "1", Status: journal.FilePublished,
		Output: "inbound/c_1-ARC01.dat\ninbound/c_1-CRC01.dat"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"inbound/c_1-ARC01.dat": true, "inbound/c_1-CRC01.dat": true,
		"inbound/c_1-ARC01": false, "inbound/cX1-ARC01.dat": false, "inbound/c_1.dat": false} {
		if ok, err := j.KnowsOutput(ctx, name); err != nil || ok != want {
			t.Errorf("KnowsOutput(%q) = %v, %v; want %v", name, ok, err, want)
		}
	}
}
