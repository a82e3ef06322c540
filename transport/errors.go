package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// Code classifies an error returned by a [Drop] so callers can decide what
// to do without parsing messages. Read it with [ErrorCode].
type Code int

// The error codes. Drivers map their backend's errors to one of these at
// their edge (see [Driver]); the original error stays reachable with
// errors.Unwrap.
const (
	// OK is the code of a nil error.
	OK Code = iota
	// Unknown is any error that fits no other code.
	Unknown
	// NotFound: the file or folder does not exist (or its parent folder
	// does not exist, for a write).
	NotFound
	// Exists: the target already exists and the operation will not replace it.
	Exists
	// Permission: the server or file system refused the operation.
	Permission
	// Transient: a network failure, a timeout or a temporary server reply
	// (FTP 4xx). Trying again later may succeed; [Drop] already did so
	// within its [Retry] policy.
	Transient
	// InvalidName: the name was refused by [ValidName] before anything was sent.
	InvalidName
	// Canceled: the caller's context was canceled or its deadline passed.
	Canceled
	// Protocol: the server answered something the driver cannot understand,
	// such as a directory listing in an unknown format.
	Protocol
	// Unsupported: the driver cannot do this operation.
	Unsupported
)

var codeNames = [...]string{
	OK:          "ok",
	Unknown:     "unknown",
	NotFound:    "not found",
	Exists:      "exists",
	Permission:  "permission denied",
	Transient:   "transient",
	InvalidName: "invalid name",
	Canceled:    "canceled",
	Protocol:    "protocol",
	Unsupported: "unsupported",
}

// String returns a short lower-case name such as "not found".
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is the error type of this package and of its drivers. It names the
// operation and the path (relative to the drop's root) and wraps the
// backend's error.
//
// Error never carries a secret: drivers that hold one (the FTP password)
// remove it from Err before wrapping.
type Error struct {
	Code Code   // what kind of failure
	Op   string // the operation: "list", "open", "put", "rename", ...
	Path string // the path the operation was about; for rename "from -> to"
	Err  error  // the underlying error, may be nil
}

func (e *Error) Error() string {
	msg := "transport: " + e.Op
	if e.Path != "" {
		msg += " " + e.Path
	}
	msg += ": " + e.Code.String()
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match the standard file system sentinels:
// [NotFound] matches fs.ErrNotExist, [Exists] fs.ErrExist, [Permission]
// fs.ErrPermission and [InvalidName] fs.ErrInvalid.
func (e *Error) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e.Code == NotFound
	case fs.ErrExist:
		return e.Code == Exists
	case fs.ErrPermission:
		return e.Code == Permission
	case fs.ErrInvalid:
		return e.Code == InvalidName
	}
	return false
}

// ErrorCode returns the code of err: [OK] for nil, the Code of the first
// [*Error] in err's chain, [Canceled] for context.Canceled and
// context.DeadlineExceeded, and [Unknown] otherwise.
func ErrorCode(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	return Unknown
}

// Errorf returns an [*Error] with the given code, operation and path whose
// cause is fmt.Errorf(format, args...). Drivers use it at their edge.
func Errorf(code Code, op, path, format string, args ...any) error {
	return &Error{Code: code, Op: op, Path: path, Err: fmt.Errorf(format, args...)}
}

// wrap returns err as an *Error for op and path. An error that already is
// an *Error keeps its code; the op and path of the portable call win.
func wrap(ctx context.Context, op, path string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && ErrorCode(err) != InvalidName {
		return &Error{Code: Canceled, Op: op, Path: path, Err: fmt.Errorf("%w (%v)", ctx.Err(), cause(err))}
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Op: op, Path: path, Err: e.Err}
	}
	return &Error{Code: ErrorCode(err), Op: op, Path: path, Err: err}
}

// cause strips an *Error down to its underlying error, for messages.
func cause(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		return e.Err
	}
	return err
}
