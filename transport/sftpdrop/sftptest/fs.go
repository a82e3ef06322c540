package sftptest

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"
)

// rootFS serves a local folder to one SFTP session through an [os.Root],
// so that no path (not "..", not a symbolic link) reaches outside it. The
// client sees the folder as "/".
type rootFS struct {
	root          *os.Root
	noPosixRename bool
}

var (
	_ sftp.FileReader           = (*rootFS)(nil)
	_ sftp.FileWriter           = (*rootFS)(nil)
	_ sftp.OpenFileWriter       = (*rootFS)(nil)
	_ sftp.FileCmder            = (*rootFS)(nil)
	_ sftp.PosixRenameFileCmder = (*rootFS)(nil)
	_ sftp.FileLister           = (*rootFS)(nil)
	_ sftp.LstatFileLister      = (*rootFS)(nil)
)

func (h *rootFS) handlers() sftp.Handlers {
	return sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h}
}

// rel is the name inside the root of a client's path.
func rel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

// Fileread opens a file for reading.
func (h *rootFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	return h.root.Open(rel(r.Filepath))
}

// Filewrite opens a file for writing with the client's flags.
func (h *rootFS) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	return h.open(r)
}

// OpenFile opens a file for reading and writing.
func (h *rootFS) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) {
	return h.open(r)
}

func (h *rootFS) open(r *sftp.Request) (*os.File, error) {
	pf := r.Pflags()
	flag := os.O_WRONLY
	if pf.Read {
		flag = os.O_RDWR
	}
	if pf.Creat {
		flag |= os.O_CREATE
	}
	if pf.Trunc {
		flag |= os.O_TRUNC
	}
	if pf.Excl {
		flag |= os.O_EXCL
	}
	return h.root.OpenFile(rel(r.Filepath), flag, 0o644)
}

// Filecmd changes the tree.
func (h *rootFS) Filecmd(r *sftp.Request) error {
	p := rel(r.Filepath)
	switch r.Method {
	case "Setstat":
		return h.setstat(r)
	case "Rename":
		// As OpenSSH's server: a plain rename does not replace a file.
		if _, err := h.root.Lstat(rel(r.Target)); err == nil {
			return fs.ErrExist
		}
		return h.root.Rename(p, rel(r.Target))
	case "Rmdir":
		if fi, err := h.root.Lstat(p); err == nil && !fi.IsDir() {
			return errors.New("not a folder")
		}
		return h.root.Remove(p)
	case "Remove":
		if fi, err := h.root.Lstat(p); err == nil && fi.IsDir() {
			return errors.New("is a folder")
		}
		return h.root.Remove(p)
	case "Mkdir":
		return h.root.Mkdir(p, 0o755)
	}
	return sftp.ErrSSHFxOpUnsupported
}

// PosixRename renames, replacing the target (posix-rename@openssh.com).
func (h *rootFS) PosixRename(r *sftp.Request) error {
	if h.noPosixRename {
		return sftp.ErrSSHFxOpUnsupported
	}
	return h.root.Rename(rel(r.Filepath), rel(r.Target))
}

func (h *rootFS) setstat(r *sftp.Request) error {
	attrs := r.Attributes()
	flags := r.AttrFlags()
	p := rel(r.Filepath)
	if flags.Size {
		f, err := h.root.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = f.Truncate(int64(attrs.Size))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if flags.Acmodtime {
		return h.root.Chtimes(p, attrs.AccessTime(), attrs.ModTime())
	}
	return nil
}

// Filelist lists a folder or describes one file.
func (h *rootFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	p := rel(r.Filepath)
	switch r.Method {
	case "List":
		f, err := h.root.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		entries, err := f.ReadDir(-1)
		if err != nil {
			return nil, err
		}
		list := make(lister, 0, len(entries))
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			list = append(list, fi)
		}
		return list, nil
	case "Stat":
		fi, err := h.root.Stat(p)
		if err != nil {
			return nil, err
		}
		return lister{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat describes one entry without following a symbolic link.
func (h *rootFS) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	fi, err := h.root.Lstat(rel(r.Filepath))
	if err != nil {
		return nil, err
	}
	return lister{fi}, nil
}

type lister []os.FileInfo

func (l lister) ListAt(ls []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(ls, l[offset:])
	if n < len(ls) {
		return n, io.EOF
	}
	return n, nil
}
