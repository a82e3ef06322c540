package config

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/feebridge/feebridge/reconcile"
)

// Folder is one folder the jobs use on a drop, with the config key that
// names it.
type Folder struct {
	Key    string // e.g. "peoplesoft.outbound_folder"
	Drop   string // the drop's key: "library" or "peoplesoft"
	Folder string // the folder on the drop, defaults applied, e.g. "outbound"
	// Path is where the folder is: a local path for a "dir" drop, the
	// server, root and folder for an "ftp" one.
	Path string
	// Inbound is the job that reads the folder, "" for a folder written to.
	Inbound string
	// Writers are the jobs that write to the folder; for a taken folder,
	// those whose outputs are moved there.
	Writers []string
	// Taken marks the folder where the consumer moves what it took
	// (library.import_taken_folder, peoplesoft.inbound_taken_folder):
	// feesync only looks into it.
	Taken bool
	local bool
}

// Folders lists every folder the jobs use, with its key and path.
func (c *Config) Folders() []Folder {
	f := c.jobOptions(&Options{}).Folders.WithDefaults()
	lib, ps := &c.Library.DropConfig, &c.PeopleSoft.DropConfig
	list := []Folder{
		{Key: "library.export_folder", Drop: "library", Folder: f.Exports, Inbound: reconcile.JobCharges},
		{Key: "library.credit_folder", Drop: "library", Folder: f.Credits, Inbound: reconcile.JobCredits},
		{Key: "library.import_folder", Drop: "library", Folder: f.Imports, Writers: importWriters},
		{Key: "peoplesoft.inbound_folder", Drop: "peoplesoft", Folder: f.Charges, Writers: chargeWriters},
		{Key: "peoplesoft.outbound_folder", Drop: "peoplesoft", Folder: f.Payments, Inbound: reconcile.JobPayments},
		{Key: "report.folder", Drop: "library", Folder: f.Reports},
	}
	if c.PeopleSoft.ResultsFolder != "" {
		list = append(list, Folder{Key: "peoplesoft.results_folder", Drop: "peoplesoft", Folder: f.Results, Inbound: reconcile.JobResults})
	}
	if f.ImportsTaken != "" {
		list = append(list, Folder{Key: "library.import_taken_folder", Drop: "library", Folder: f.ImportsTaken,
			Writers: importWriters, Taken: true})
	}
	if f.ChargesTaken != "" {
		list = append(list, Folder{Key: "peoplesoft.inbound_taken_folder", Drop: "peoplesoft", Folder: f.ChargesTaken,
			Writers: chargeWriters, Taken: true})
	}
	for i := range list {
		d := lib
		if list[i].Drop == "peoplesoft" {
			d = ps
		}
		switch d.Type {
		case "dir":
			list[i].Path, list[i].local = filepath.Join(d.Path, filepath.FromSlash(list[i].Folder)), true
		case "ftp", "sftp":
			list[i].Path = d.Type + "://" + d.Address + "/" + path.Join(d.Root, list[i].Folder)
		}
	}
	return list
}

// The jobs that write to the import folder and to PeopleSoft's inbound
// folder.
var (
	importWriters = []string{reconcile.JobPayments, reconcile.JobRedrivePayment}
	chargeWriters = []string{reconcile.JobCharges, reconcile.JobCredits, reconcile.JobRedriveCharges, reconcile.JobRedriveCredits}
)

// FolderError returns err with the config key and the path of the folder
// it names when err is a [*reconcile.FolderError], else err unchanged.
// errors.As still finds the *reconcile.FolderError.
func (c *Config) FolderError(err error) error {
	var fe *reconcile.FolderError
	if !errors.As(err, &fe) {
		return err
	}
	for _, f := range c.Folders() {
		job := f.Inbound == fe.Job
		if fe.Outbound {
			job = slices.Contains(f.Writers, fe.Job)
		}
		if job && f.Folder == fe.Folder {
			what := "does not exist"
			if errors.Is(fe.Err, reconcile.ErrNotFolder) {
				what = "is not a folder"
			}
			return fmt.Errorf("%s = %q: %s %s: %w", f.Key, f.Folder, f.Path, what, err)
		}
	}
	return err
}

// CheckFolders checks every folder of a local ("dir") drop: that it
// exists, is a folder and can be written. It returns one error per folder
// that fails, each naming its key and path, or nil. Folders of an FTP
// drop are not checked: that needs a login.
func (c *Config) CheckFolders() error {
	var errs []error
	for _, f := range c.Folders() {
		if !f.local {
			continue
		}
		if err := checkFolder(f.Path, !f.Taken); err != nil {
			errs = append(errs, fmt.Errorf("%s = %q: %s %w", f.Key, f.Folder, f.Path, err))
		}
	}
	return errors.Join(errs...)
}

// checkFolder says why dir is not a folder (that can be written, when
// write is set), or nil.
func checkFolder(dir string, write bool) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errors.New("does not exist")
	case err != nil:
		return fmt.Errorf("cannot be read: %w", err)
	case !fi.IsDir():
		return errors.New("is not a folder")
	}
	if !write {
		return nil
	}
	f, err := os.CreateTemp(dir, ".feesync-check-*")
	if err != nil {
		return fmt.Errorf("cannot be written: %w", err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
