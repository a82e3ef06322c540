package config_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/config"
)

const mailSection = `[mail]
host = "smtp.example.edu"
from = "Library fees <feebridge@example.edu>"
to = ["circulation@example.edu"]
`

func TestMailConfig(t *testing.T) {
	c, err := config.Parse(strings.NewReader(minimalConfig), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.MailEnabled() {
		t.Fatal("mail is on without a [mail] section")
	}
	if m, err := c.Mailer(nil); m != nil || err != nil {
		t.Fatalf("Mailer without [mail] = %v, %v; want nil, nil", m, err)
	}
	c, err = config.Parse(strings.NewReader(minimalConfig+mailSection), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := c.Mail
	if m.Security != "starttls" || m.Port != 587 || m.PasswordEnv != config.EnvSMTPPassword || m.User != "" {
		t.Errorf("defaults: %+v", m)
	}
	if m, err := c.Mailer(func(string) string { return "" }); m == nil || err != nil {
		t.Errorf("Mailer without a user = %v, %v; want one that needs no password", m, err)
	}
	c, err = config.Parse(strings.NewReader(minimalConfig+mailSection+"security = \"tls\"\nuser = \"fb\"\n"), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Mail.Port != 465 {
		t.Errorf("port with tls = %d, want 465", c.Mail.Port)
	}
	if _, err := c.Mailer(func(string) string { return "" }); err == nil ||
		err.Error() != "mail.password: secret not set: set FEEBRIDGE_SMTP_PASSWORD, or FEEBRIDGE_SMTP_PASSWORD_FILE to the path of a file holding it" {
		t.Errorf("Mailer with a user and no password: %v", err)
	}
	pwFile := writeFile(t, "pw", "from-a-file\n")
	env := map[string]string{"FEEBRIDGE_SMTP_PASSWORD_FILE": pwFile}
	if _, err := c.Mailer(func(k string) string { return env[k] }); err != nil {
		t.Errorf("Mailer with the password in a file: %v", err)
	}
	var found bool
	for _, r := range c.Secrets() {
		found = found || r.Key == "mail.password"
	}
	if !found {
		t.Error("Secrets lacks mail.password when a user is set")
	}
}

func TestMailConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"no host", "[mail]\nfrom = \"a@b.edu\"\nto = [\"c@d.edu\"]\n", "f.toml:8: mail.host: missing: the SMTP server's name"},
		{"bad security", mailSection + "security = \"ssl\"\n", `f.toml:12: mail.security: "ssl" is not "starttls", "tls" or "none"`},
		{"bad port", mailSection + "port = 70000\n", "f.toml:12: mail.port: 70000 is not a port from 1 to 65535"},
		{"no recipients", "[mail]\nhost = \"h\"\nfrom = \"a@b.edu\"\n", `f.toml:8: mail.to: missing: the list of recipients, such as ["circulation@example.edu"]`},
		{"bad recipient", strings.Replace(mailSection, `["circulation@example.edu"]`, `["ok@example.edu", "not an address"]`, 1),
			`f.toml:11: mail.to: recipient 2, "not an address", is not a mail address: mail: no angle-addr`},
		{"password in file", mailSection + "password = \"hunter2\"\n",
			"f.toml:12: mail.password: secrets are never written in the config file: use password_env or password_file"},
		{"unknown key", mailSection + "tls = \"yes\"\n", "f.toml:12: mail.tls: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(minimalConfig+tc.text), "f.toml")
			if err == nil || err.Error() != tc.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}

// TestExampleMailSection turns on the example's [mail] section, commented
// out, and reads it; and its [[colleges]], commented out too.
func TestExampleMailSection(t *testing.T) {
	b, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if k, ok := strings.CutPrefix(l, "# "); ok && (k == "[mail]" || k == "[[colleges]]" || regexp.MustCompile(`^[a-z_]+ = `).MatchString(k)) {
			l = k
		}
		lines = append(lines, l)
	}
	c, err := config.Parse(strings.NewReader(strings.Join(lines, "\n")), exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Mail
	if m == nil || m.Host != "smtp.example.edu" || m.Security != "starttls" || m.User != "feebridge" || len(m.To) != 2 || m.SubjectPrefix != "[feebridge] " {
		t.Errorf("the example's [mail] section: %+v", m)
	}
	if len(c.Colleges) != 3 || c.Colleges[1].ItemTypes["OVERDUEFINE"] != "410000000001" || len(c.Colleges[2].Terms) != 1 {
		t.Errorf("the example's [[colleges]]: %+v", c.Colleges)
	}
}
