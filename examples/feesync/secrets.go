package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret holds an API key, password or webhook secret. It prints, formats
// and logs as [redacted]; only Reveal gives the value, at the point where
// it is handed to a client.
type Secret struct{ v string }

const redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// errNoSecret is wrapped by the error of a secret that is not set.
var errNoSecret = errors.New("secret not set")

// secretRef says where one secret lives: the config key it belongs to, the
// environment variable and the file that may hold it.
type secretRef struct {
	key  string // config key, such as alma.api_key
	env  string // variable holding the value; env+"_FILE" may name a file
	file string // file named by the config, which wins
}

// loadSecret reads the secret ref names. The value is taken, in order, from
// the file the config names, the variable ref.env, or the file named by
// ref.env+"_FILE". A trailing newline in a file is dropped. Errors name the
// key, the variable or the file, never the value.
func (m *Main) loadSecret(ref secretRef) (Secret, error) {
	if ref.file != "" {
		return readSecretFile(ref.key, ref.file)
	}
	if v := m.Getenv(ref.env); v != "" {
		return Secret{v}, nil
	}
	if f := m.Getenv(ref.env + "_FILE"); f != "" {
		return readSecretFile(ref.key, f)
	}
	return Secret{}, fmt.Errorf("%s: %w: set %s, or %s_FILE to the path of a file holding it", ref.key, errNoSecret, ref.env, ref.env)
}

func readSecretFile(key, path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Secret{}, fmt.Errorf("%s: read secret file %s: %w", key, path, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return Secret{}, fmt.Errorf("%s: %w: the file %s is empty", key, errNoSecret, path)
	}
	return Secret{v}, nil
}
