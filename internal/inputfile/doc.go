// Package inputfile reads the small files healthsync is pointed at by its
// configuration — the mapping file, the token encryption key file, the
// Salesforce JWT private key — so that a wrong path can neither hang the
// process nor exhaust its memory, and a key file others can read is not
// used.
//
// [Read] checks the path before it reads a byte: it must name a regular
// file (a FIFO, a device, a socket or a directory is refused, and a FIFO
// is never opened in a way that blocks), no larger than the caller's
// limit (checked on the size the file reports and again while reading,
// through an io.LimitReader, so a file that grows or lies is cut off).
// With [Rules.Private] it also refuses a file that other users can read,
// the rule ssh applies to private keys and PostgreSQL to its TLS key:
//
//   - a file owned by the user healthsync runs as must give no access to
//     group or others (mode 0600 or 0400);
//   - a file owned by root (or another user) may be readable by its group
//     (mode 0640 or 0440) — that is how a Kubernetes secret volume with
//     fsGroup, or an admin's root:healthsync key file, shares a key with
//     the service on purpose — but never by others.
//
// Every refusal is an [*Error] naming the path, what is wrong and the fix;
// errors.Is matches it against [ErrNotRegular], [ErrTooLarge] or
// [ErrNotPrivate].
package inputfile
