package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

var (
	// ErrNotRegular means the path names something other than a regular
	// file: a FIFO, a device, a socket or a directory.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge means the file is larger than the limit.
	ErrTooLarge = errors.New("file too large")
	// ErrNotPrivate means a key file can be read by users other than its
	// owner (and, for a file owned by root, its group).
	ErrNotPrivate = errors.New("file readable by other users")
)

// Rules say what a file must be for Read to return its contents.
type Rules struct {
	// What names the file in messages: "mapping file", "key file".
	What string
	// Max is the largest size accepted, in bytes (> 0).
	Max int64
	// Private refuses a file that users other than its owner can read
	// (see the package documentation for the exact rule).
	Private bool
}

// Error is a file Read refused. Its message reads "PATH: PROBLEM".
type Error struct {
	Path    string
	Problem string // what is wrong and how to fix it
	kind    error  // ErrNotRegular, ErrTooLarge or ErrNotPrivate
}

// Error formats the refusal as "path: problem".
func (e *Error) Error() string { return e.Path + ": " + e.Problem }

// Unwrap returns the sentinel of the refusal.
func (e *Error) Unwrap() error { return e.kind }

// Read returns the contents of the regular file at path once it meets r.
// A missing or unreadable file gives the *fs.PathError of os.Stat or
// os.OpenFile; a file that breaks a rule gives an *Error.
func Read(path string, r Rules) ([]byte, error) {
	if r.What == "" {
		r.What = "file"
	}
	// Stat first: a FIFO or a device is refused without being opened.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := check(path, fi, r); err != nil {
		return nil, err
	}
	// The path may have changed since: open without blocking (a FIFO
	// swapped in would otherwise wait for a writer) and check again what
	// was opened.
	f, err := openNoBlock(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if err := check(path, fi, r); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, r.Max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > r.Max {
		return nil, tooLarge(path, int64(len(data)), r, "more than ")
	}
	return data, nil
}

// check applies the rules to what Stat said about the file.
func check(path string, fi fs.FileInfo, r Rules) error {
	if !fi.Mode().IsRegular() {
		return &Error{Path: path, kind: ErrNotRegular,
			Problem: fmt.Sprintf("is %s, not a regular file: a %s must be a regular file (name the file itself)", describe(fi.Mode()), r.What)}
	}
	if fi.Size() > r.Max {
		return tooLarge(path, fi.Size(), r, "")
	}
	if r.Private {
		if problem := notPrivate(path, fi); problem != "" {
			return &Error{Path: path, kind: ErrNotPrivate, Problem: problem}
		}
	}
	return nil
}

// Private applies the key-file rule to permission bits: nil when a key
// file with mode perm may be used, else an error (matching ErrNotPrivate)
// saying who else can read it. ownedByRunner says whether the file
// belongs to the non-root user healthsync runs as; a file owned by root
// or another user may be readable by its group, never by others. Read
// applies it to the file it opens; deployment checks apply it to the
// modes their manifests give key files.
func Private(perm fs.FileMode, ownedByRunner bool) error {
	perm = perm.Perm()
	switch {
	case perm&0o007 != 0:
		return fmt.Errorf("%w: readable by other users (mode %04o)", ErrNotPrivate, perm)
	case perm&0o070 != 0 && ownedByRunner:
		return fmt.Errorf("%w: readable by its group (mode %04o) and owned by the user healthsync runs as", ErrNotPrivate, perm)
	}
	return nil
}

func tooLarge(path string, size int64, r Rules, more string) error {
	return &Error{Path: path, kind: ErrTooLarge,
		Problem: fmt.Sprintf("file is %s%d bytes; a %s must be under %d bytes (%s): is this the right file?", more, size, r.What, r.Max, human(r.Max))}
}

// describe names a file type for a person.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

func human(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
