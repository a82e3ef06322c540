package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/transport"
)

// CheckOnline checks what the config points at, as the jobs will meet
// it: it logs in to every drop, checks that every folder exists and can be
// written (a file with a feesync-owned name, then removed), makes one
// read-only Alma call with the API key, checks the journal's folder and
// file, and that the listen address can be bound. It returns every problem
// found, joined, each naming the config key that causes it, or nil.
// opts may be nil; opts.AlmaClient replaces the client built from the
// config.
func (c *Config) CheckOnline(ctx context.Context, opts *Options) error {
	o := withDefaults(opts)
	var errs []error
	s := &Setup{}
	defer s.Close()
	for _, d := range []struct {
		key string
		cfg DropConfig
	}{{"library", c.Library.DropConfig}, {"peoplesoft", c.PeopleSoft.DropConfig}} {
		drop, err := s.openDrop(ctx, c, o, d.key, d.cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, c.checkDropFolders(ctx, d.key, drop)...)
	}
	errs = append(errs, c.checkAlmaKey(ctx, o))
	errs = append(errs, c.checkJournal())
	errs = append(errs, c.checkListen())
	return errors.Join(errs...)
}

// checkDropFolders checks the folders of one open drop.
func (c *Config) checkDropFolders(ctx context.Context, key string, drop *transport.Drop) []error {
	var errs []error
	for _, f := range c.Folders() {
		if f.Drop != key {
			continue
		}
		if err := checkDropFolder(ctx, drop, f.Folder, !f.Taken); err != nil {
			errs = append(errs, fmt.Errorf("%s = %q: %s %w", f.Key, f.Folder, f.Path, err))
		}
	}
	return errs
}

// checkDropFolder says why dir is not a folder of drop (that can be
// written, when write is set), or nil.
func checkDropFolder(ctx context.Context, drop *transport.Drop, dir string, write bool) error {
	if _, err := drop.List(ctx, dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errors.New("does not exist")
		}
		return fmt.Errorf("cannot be listed: %w", err)
	}
	if !write {
		return nil
	}
	name := path.Join(dir, fmt.Sprintf(".feesync-check-%d", time.Now().UnixNano()))
	if err := drop.Put(ctx, name, bytes.NewReader([]byte("feesync check-config\n"))); err != nil {
		return fmt.Errorf("cannot be written: %w", err)
	}
	if err := drop.Remove(ctx, name); err != nil {
		return fmt.Errorf("a test file %s was written but cannot be removed: %w", name, err)
	}
	return nil
}

// checkAlmaKey makes one read-only call with the API key: it asks for a user
// that does not exist, which Alma answers "not found" when the key is good.
func (c *Config) checkAlmaKey(ctx context.Context, o *Options) error {
	api, err := c.almaClient(o)
	if err != nil {
		return err
	}
	_, err = api.GetUser(ctx, "feesync-check-config")
	if err == nil || alma.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("%s: the Alma API refused a test call (GET users) with the key: %w", c.AlmaKey().Key, err)
}

// checkJournal checks that the journal's folder exists and can be written,
// and that the journal file is there.
func (c *Config) checkJournal() error {
	if c.Journal == "" {
		return nil
	}
	if journal.IsPostgres(c.Journal) {
		return c.checkPostgresJournal()
	}
	dir := filepath.Dir(c.Journal)
	if err := checkFolder(dir, true); err != nil {
		return fmt.Errorf("journal = %q: its folder %s %w", c.Journal, dir, err)
	}
	fi, err := os.Stat(c.Journal)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0 && !fi.IsDir()):
		return fmt.Errorf("journal = %q: there is no journal yet: run feesync init", c.Journal)
	case err != nil:
		return fmt.Errorf("journal = %q: %w", c.Journal, err)
	case fi.IsDir():
		return fmt.Errorf("journal = %q: is a folder, not a file", c.Journal)
	}
	return nil
}

// checkListen checks that the listen address can be bound.
func (c *Config) checkListen() error {
	if c.Webhook.Listen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", c.Webhook.Listen)
	if err != nil {
		return fmt.Errorf("webhook.listen = %q: cannot be bound: %w", c.Webhook.Listen, err)
	}
	return ln.Close()
}
