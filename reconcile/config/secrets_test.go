package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/config"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSecretRefLoad(t *testing.T) {
	env := map[string]string{
		"FEEBRIDGE_ALMA_API_KEY_FILE": writeFile(t, "key", "from-a-file\n"),
		"EMPTY_FILE":                  writeFile(t, "empty", "\n"),
		"PLAIN":                       "from-the-env",
	}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		name string
		ref  config.SecretRef
		want string // the value, or the error
	}{
		{"file named by _FILE", config.SecretRef{Key: "alma.api_key", Env: config.EnvAlmaAPIKey}, "from-a-file"},
		{"config file wins", config.SecretRef{Key: "alma.api_key", Env: config.EnvAlmaAPIKey, File: writeFile(t, "k2", "config-file")}, "config-file"},
		{"variable", config.SecretRef{Key: "x", Env: "PLAIN"}, "from-the-env"},
		{"unset", config.SecretRef{Key: "webhook.secret", Env: "NONE"},
			"webhook.secret: secret not set: set NONE, or NONE_FILE to the path of a file holding it"},
		{"empty file", config.SecretRef{Key: "k", Env: "EMPTY"}, "k: secret not set: the file " + env["EMPTY_FILE"] + " is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.ref.Load(getenv)
			got := s.Reveal()
			if err != nil {
				got = err.Error()
				if !errors.Is(err, config.ErrNoSecret) {
					t.Errorf("error does not wrap ErrNoSecret: %v", err)
				}
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := config.NewSecret("hunter2")
	out := fmt.Sprintf("%v %s %+v %#v %q %v", s, s, s, s, s, struct{ S config.Secret }{s})
	if strings.Contains(out, "hunter2") {
		t.Errorf("secret printed: %s", out)
	}
	if b, _ := s.MarshalText(); string(b) != config.Redacted {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestSecrets(t *testing.T) {
	c, err := config.Load(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range c.Secrets() {
		keys = append(keys, r.Key)
	}
	if got, want := strings.Join(keys, " "), "alma.api_key library.password webhook.secret"; got != want {
		t.Errorf("secrets %q, want %q", got, want)
	}
}
