package config_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/config"
)

// TestStatusToken (issue 16, the status page): the token is optional (no
// token, no error), read from FEEBRIDGE_STATUS_TOKEN or its _FILE, or from
// webhook.status_token_file, which must then be readable; a bad variable
// name is refused with its key.
func TestStatusToken(t *testing.T) {
	c, err := config.Parse(strings.NewReader(minimalConfig+"[webhook]\nlisten = \"127.0.0.1:0\"\n"), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if s, err := c.LoadStatusToken(getenv); err != nil || !s.IsZero() {
		t.Errorf("no token set: %v, %v; want none and no error", s.Reveal(), err)
	}
	env[config.EnvStatusToken] = "tok-env"
	if s, err := c.LoadStatusToken(getenv); err != nil || s.Reveal() != "tok-env" {
		t.Errorf("token from the variable: %q, %v", s.Reveal(), err)
	}
	delete(env, config.EnvStatusToken)
	env[config.EnvStatusToken+"_FILE"] = writeFile(t, "tok", "tok-file\n")
	if s, err := c.LoadStatusToken(getenv); err != nil || s.Reveal() != "tok-file" {
		t.Errorf("token from _FILE: %q, %v", s.Reveal(), err)
	}
	env[config.EnvStatusToken+"_FILE"] = writeFile(t, "empty", "")
	if _, err := c.LoadStatusToken(getenv); err == nil || !strings.Contains(err.Error(), "webhook.status_token") {
		t.Errorf("empty token file: %v; want an error naming webhook.status_token", err)
	}

	c, err = config.Parse(strings.NewReader(minimalConfig+"[webhook]\nlisten = \"127.0.0.1:0\"\nstatus_token_file = \"/nonexistent/token\"\n"), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadStatusToken(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "/nonexistent/token") {
		t.Errorf("missing token file: %v", err)
	}
	var found bool
	for _, r := range c.Secrets() {
		found = found || r.Key == "webhook.status_token"
	}
	if !found {
		t.Error("Secrets lacks webhook.status_token when status_token_file is set")
	}

	_, err = config.Parse(strings.NewReader(minimalConfig+"[webhook]\nstatus_token_env = \"not a name\"\n"), "f.toml")
	if err == nil || !strings.Contains(err.Error(), "webhook.status_token_env") {
		t.Errorf("bad status_token_env: %v", err)
	}
}
