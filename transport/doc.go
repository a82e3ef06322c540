// Package transport moves files in and out of the file drops where
// feebridge meets Alma and PeopleSoft: the library's FTP or SFTP server
// and the district's inbound and outbound folders.
//
// A [Drop] is the one type the jobs use. It wraps a small [Driver] for
// each kind of place, found in the sub-packages:
//
//   - [github.com/feebridge/feebridge/transport/localdrop]: a folder on a local disk;
//   - [github.com/feebridge/feebridge/transport/ftpdrop]: an FTP or FTPS server;
//   - [github.com/feebridge/feebridge/transport/sftpdrop]: an SFTP server;
//   - [github.com/feebridge/feebridge/transport/memdrop]: memory, for tests and the sandbox.
//
// # What the Drop guarantees
//
// Names are checked once, by [ValidName], before a driver sees them: no
// absolute paths, no "..", no control characters. Writes are atomic
// ([Drop.Put], [Drop.WriteFile]): the content goes to a hidden temporary
// name in the same folder and is renamed into place, so a reader never
// sees half a file under its final name. Transient failures (network,
// timeouts, FTP 4xx replies, lost SSH connections) are retried by a
// [Retry] policy with backoff and jitter.
//
// # Errors
//
// Every error is an [*Error] with a [Code] ([NotFound], [Exists],
// [Permission], [Transient], [InvalidName], [Canceled], ...), the operation
// and the path. Test it with [ErrorCode]; errors.Is also matches
// fs.ErrNotExist, fs.ErrExist and fs.ErrPermission. Errors and logs never
// contain a password.
//
// # Claiming inbound files
//
// [Inbox] is the claim protocol shared by the jobs: an inbound file moves
// to processing/, then to done/ or failed/ (with a reason file beside it),
// so that nothing is lost or skipped silently and a crashed run can be
// resumed.
//
// # Writing a driver
//
// A driver implements [Driver] and, where it can do better, the optional
// [Stater] and [AtomicPutter]. The conformance suite in
// [github.com/feebridge/feebridge/transport/transporttest] checks that it
// behaves like the others.
package transport
