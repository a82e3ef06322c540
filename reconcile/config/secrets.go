package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// The secrets' environment variables. Each may instead name a file in the
// variable of the same name with _FILE appended.
const (
	EnvAlmaAPIKey    = "FEEBRIDGE_ALMA_API_KEY"
	EnvFTPPassword   = "FEEBRIDGE_FTP_PASSWORD"
	EnvWebhookSecret = "FEEBRIDGE_WEBHOOK_SECRET"
	EnvStatusToken   = "FEEBRIDGE_STATUS_TOKEN"
)

// Secret holds an API key, password or webhook secret. It prints, formats
// and logs as [redacted]; only Reveal gives the value, at the point where
// it is handed to a client.
type Secret struct{ v string }

// Redacted is how a secret prints and logs.
const Redacted = "[redacted]"

// NewSecret wraps a value (a test's, or one a program reads its own way).
func NewSecret(v string) Secret { return Secret{v} }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string               { return Redacted }
func (s Secret) GoString() string             { return Redacted }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(Redacted) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// ErrNoSecret is wrapped by the error of a secret that is not set.
var ErrNoSecret = errors.New("secret not set")

// SecretRef says where one secret lives: the config key it belongs to, the
// environment variable and the file that may hold it.
type SecretRef struct {
	Key  string // config key, such as alma.api_key
	Env  string // variable holding the value; Env+"_FILE" may name a file
	File string // file named by the config, which wins
}

// Load reads the secret. The value is taken, in order, from the file the
// config names, the variable r.Env, or the file named by r.Env+"_FILE",
// read with getenv (os.Getenv when nil). A trailing newline in a file is
// dropped. Errors name the key, the variable or the file, never the value.
func (r SecretRef) Load(getenv func(string) string) (Secret, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if r.File != "" {
		return readSecretFile(r.Key, r.File)
	}
	if v := getenv(r.Env); v != "" {
		return Secret{v}, nil
	}
	if f := getenv(r.Env + "_FILE"); f != "" {
		return readSecretFile(r.Key, f)
	}
	return Secret{}, fmt.Errorf("%s: %w: set %s, or %s_FILE to the path of a file holding it", r.Key, ErrNoSecret, r.Env, r.Env)
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
		return Secret{}, fmt.Errorf("%s: %w: the file %s is empty", key, ErrNoSecret, path)
	}
	return Secret{v}, nil
}

// AlmaKey is where the Alma API key lives.
func (c *Config) AlmaKey() SecretRef {
	return SecretRef{Key: "alma.api_key", Env: c.Alma.APIKeyEnv, File: c.Alma.APIKeyFile}
}

// WebhookSecret is where the webhook secret lives.
func (c *Config) WebhookSecret() SecretRef {
	return SecretRef{Key: "webhook.secret", Env: c.Webhook.SecretEnv, File: c.Webhook.SecretFile}
}

// StatusToken is where the optional token of the status page and
// /metrics lives: see [Config.LoadStatusToken].
func (c *Config) StatusToken() SecretRef {
	return SecretRef{Key: "webhook.status_token", Env: c.Webhook.StatusTokenEnv, File: c.Webhook.StatusTokenFile}
}

// LoadStatusToken reads the status token (getenv reads the variables;
// os.Getenv when nil). No token set is no error: it returns a zero
// Secret, and the status page and /metrics stay open. A file named but
// unreadable or empty is an error.
func (c *Config) LoadStatusToken(getenv func(string) string) (Secret, error) {
	s, err := c.StatusToken().Load(getenv)
	if errors.Is(err, ErrNoSecret) && c.Webhook.StatusTokenFile == "" {
		if getenv == nil {
			getenv = os.Getenv
		}
		if getenv(c.Webhook.StatusTokenEnv+"_FILE") == "" {
			return Secret{}, nil
		}
	}
	return s, err
}

// password is where the FTP password of the drop under key lives.
func (d DropConfig) password(key string) SecretRef {
	return SecretRef{Key: key + ".password", Env: d.PasswordEnv, File: d.PasswordFile}
}

// Secrets lists the secrets the config's drops and services need: the
// Alma API key, the FTP passwords, and the webhook secret when a listener
// is set.
func (c *Config) Secrets() []SecretRef {
	refs := []SecretRef{c.AlmaKey()}
	for _, d := range []struct {
		key  string
		drop DropConfig
	}{
		{"library", c.Library.DropConfig},
		{"peoplesoft", c.PeopleSoft.DropConfig},
	} {
		switch d.drop.Type {
		case "ftp":
			refs = append(refs, d.drop.password(d.key))
		case "sftp":
			refs = append(refs, d.drop.sftpSecrets(d.key)...)
		}
	}
	if c.Webhook.Listen != "" {
		refs = append(refs, c.WebhookSecret())
		if c.Webhook.StatusTokenFile != "" {
			refs = append(refs, c.StatusToken()) // optional, but named: it must be there
		}
	}
	if c.Mail != nil && c.Mail.User != "" {
		refs = append(refs, c.SMTPPassword())
	}
	return refs
}
