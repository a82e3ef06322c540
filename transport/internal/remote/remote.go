// Package remote holds what the drivers of remote file servers (ftpdrop and
// sftpdrop) share beyond their protocols: the drop's root folder as the
// server resolves it, the content of an upload that marks its own errors,
// errors whose cause is known, and the mapping of any other error to its
// transport code with the secrets taken out.
package remote

import (
	"context"
	"errors"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/feebridge/feebridge/transport"
)

// Root is a drop's absolute root folder on the server, found on the first
// login: a configured relative root is relative to the login folder.
type Root struct {
	mu   sync.Mutex
	path string
}

// Resolve sets the root from configured, asking wd for the login folder
// when configured is relative. Once set, it does nothing.
func (r *Root) Resolve(configured string, wd func() (string, error)) error {
	r.mu.Lock()
	done := r.path != ""
	r.mu.Unlock()
	if done {
		return nil
	}
	root := configured
	if !path.IsAbs(root) {
		dir, err := wd()
		if err != nil {
			return err
		}
		root = path.Join("/", dir, root)
	}
	r.mu.Lock()
	r.path = path.Clean(root)
	r.mu.Unlock()
	return nil
}

// Abs is the server path of a drop name; the root itself for "".
func (r *Root) Abs(name string) string {
	r.mu.Lock()
	root := r.path
	r.mu.Unlock()
	if name == "" {
		return root
	}
	return path.Join(root, name)
}

// CauseError is an error whose cause is known: it carries its transport
// code and a message that says what to change.
type CauseError struct {
	Cause error // the driver's sentinel, for errors.Is
	Code  transport.Code
	Msg   string
	Err   error // the server's or the library's error
}

func (e *CauseError) Error() string { return e.Msg + " (" + e.Err.Error() + ")" }

// Unwrap gives both the sentinel and the underlying error.
func (e *CauseError) Unwrap() []error { return []error{e.Cause, e.Err} }

// Source is the content of an upload. It stops at the end of Ctx, marks
// its own errors (which are not the server's fault) as *SourceError, and
// counts the bytes read in N.
type Source struct {
	Ctx context.Context
	R   io.Reader
	N   int64
}

// SourceError is an error of reading an upload's content.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return "reading the content to upload: " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

func (s *Source) Read(p []byte) (int, error) {
	if err := s.Ctx.Err(); err != nil {
		return 0, &SourceError{err}
	}
	n, err := s.R.Read(p)
	s.N += int64(n)
	if err != nil && err != io.EOF {
		err = &SourceError{err}
	}
	return n, err
}

// KnownCode gives the transport code of the errors every driver knows the
// code of: a *CauseError's own, and a *SourceError's underlying code
// (Unknown when it has none). ok is false for any other error.
func KnownCode(err error) (code transport.Code, ok bool) {
	var ce *CauseError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	var src *SourceError
	if errors.As(err, &src) {
		return transport.ErrorCode(src.Err), true
	}
	return transport.Unknown, false
}

// MapErr gives an error of a driver's library or of the network its
// transport code, at the edge of the driver: Canceled once ctx is done,
// an error that already is a *transport.Error as it is, and any other
// classified and redacted.
func MapErr(ctx context.Context, op, p string, err error, classify func(error) transport.Code, redact func(error) error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return &transport.Error{Code: transport.Canceled, Op: op, Path: p, Err: ctx.Err()}
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return err
	}
	return &transport.Error{Code: classify(err), Op: op, Path: p, Err: redact(err)}
}

// redactedError is an error whose message had a secret in it.
type redactedError struct{ msg string }

func (e *redactedError) Error() string { return e.msg }

// Redact returns err, or a copy of its message with each secret replaced
// by "[redacted]" if it contains one; empty secrets are skipped. The copy
// drops the chain: the original would show the secret through
// errors.Unwrap.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := msg
	for _, s := range secrets {
		if s != "" {
			out = strings.ReplaceAll(out, s, "[redacted]")
		}
	}
	if out == msg {
		return err
	}
	return &redactedError{msg: out}
}

// Cause is a *CauseError: err, whose cause is the sentinel cause, with
// its code and a message that says what to change.
func Cause(cause error, code transport.Code, msg string, err error) *CauseError {
	return &CauseError{Cause: cause, Code: code, Msg: msg, Err: err}
}
