package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/mail"
	"os"
	"slices"

	"github.com/feebridge/feebridge/reconcile"
)

// EnvSMTPPassword is the variable holding the SMTP password (or, with
// _FILE appended, naming a file that holds it).
const EnvSMTPPassword = "FEEBRIDGE_SMTP_PASSWORD"

// MailConfig is the [mail] section: how feesync mails the daily report and
// its alerts. Without the section nothing is mailed.
//
//	[mail]
//	host = "smtp.example.edu"
//	port = 587                 # default: 587, or 465 with security = "tls"
//	security = "starttls"      # default; or "tls", or "none"
//	user = "feebridge"         # no login when empty
//	from = "Library fees <feebridge@example.edu>"
//	to = ["circulation@example.edu"]
//	subject_prefix = "[feebridge] "
//
// The password is never in the file: it is read from FEEBRIDGE_SMTP_PASSWORD,
// or the file FEEBRIDGE_SMTP_PASSWORD_FILE names (password_env and
// password_file change where).
type MailConfig struct {
	// Host is the SMTP server's name.
	Host string `toml:"host"`
	// Port is the SMTP port; the default is 587, or 465 with
	// security = "tls".
	Port int `toml:"port"`
	// Security is "starttls" (the default: the server must offer
	// STARTTLS), "tls" (TLS from the first byte) or "none" (plain SMTP,
	// only for a relay on the same host or network).
	Security string `toml:"security"`
	// User logs in (AUTH PLAIN); empty sends without logging in.
	User string `toml:"user"`
	// PasswordEnv names the variable holding the password; the default is
	// FEEBRIDGE_SMTP_PASSWORD (or FEEBRIDGE_SMTP_PASSWORD_FILE).
	PasswordEnv string `toml:"password_env"`
	// PasswordFile names a file holding the password.
	PasswordFile string `toml:"password_file"`
	// CAFile, when set, is a PEM file of the certificate authorities
	// trusted for the server (a campus CA); the system's otherwise.
	CAFile string `toml:"ca_file"`
	// From is the sender's address.
	From string `toml:"from"`
	// To are the recipients of the report and the alerts.
	To []string `toml:"to"`
	// SubjectPrefix, when set, starts every subject.
	SubjectPrefix string `toml:"subject_prefix"`
}

// mailSecurities are the values of mail.security.
var mailSecurities = []string{"starttls", "tls", "none"}

// MailEnabled reports whether the config has a [mail] section.
func (c *Config) MailEnabled() bool { return c.Mail != nil }

// SMTPPassword is where the SMTP password lives.
func (c *Config) SMTPPassword() SecretRef {
	m := c.Mail
	if m == nil {
		m = &MailConfig{PasswordEnv: EnvSMTPPassword}
	}
	return SecretRef{Key: "mail.password", Env: m.PasswordEnv, File: m.PasswordFile}
}

func (c *Config) setMailDefaults() {
	m := c.Mail
	if m == nil {
		return
	}
	if m.Security == "" {
		m.Security = "starttls"
	}
	if m.Port == 0 {
		m.Port = 587
		if m.Security == "tls" {
			m.Port = 465
		}
	}
	if m.PasswordEnv == "" {
		m.PasswordEnv = EnvSMTPPassword
	}
}

// checkMail checks the [mail] section, when there is one.
func (c *Config) checkMail() error {
	m := c.Mail
	if m == nil {
		return nil
	}
	c.setMailDefaults()
	switch {
	case m.Host == "":
		return c.missingMail("mail.host", "missing: the SMTP server's name")
	case m.Port < 1 || m.Port > 65535:
		return c.errorf("mail.port", "%d is not a port from 1 to 65535", m.Port)
	case !slices.Contains(mailSecurities, m.Security):
		return c.errorf("mail.security", `%q is not "starttls", "tls" or "none"`, m.Security)
	case m.From == "":
		return c.missingMail("mail.from", "missing: the sender's address")
	case len(m.To) == 0:
		return c.missingMail("mail.to", "missing: the list of recipients, such as [\"circulation@example.edu\"]")
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		return c.errorf("mail.from", "%q is not a mail address: %v", m.From, err)
	}
	for i, to := range m.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return c.errorf("mail.to", "recipient %d, %q, is not a mail address: %v", i+1, to, err)
		}
	}
	return c.checkSecretRef("mail.password", m.PasswordEnv, m.PasswordFile)
}

// missingMail is the error of a key missing from the [mail] section: on
// the section's line.
func (c *Config) missingMail(key, format string, args ...any) error {
	return &Error{File: c.path, Line: c.lines["mail"], Key: key, Err: fmt.Errorf(format, args...)}
}

// Mailer returns the SMTP mailer of the [mail] section, reading the
// password when a user is set (getenv reads the variables; os.Getenv when
// nil), and nil when the config has no [mail] section.
func (c *Config) Mailer(getenv func(string) string) (*reconcile.SMTPMailer, error) {
	m := c.Mail
	if m == nil {
		return nil, nil
	}
	opts := reconcile.SMTPOptions{Host: m.Host, Port: m.Port, Username: m.User, From: m.From,
		Security: m.Security, SubjectPrefix: m.SubjectPrefix}
	if m.User != "" {
		pw, err := c.SMTPPassword().Load(getenv)
		if err != nil {
			return nil, err
		}
		opts.Password = pw.Reveal()
	}
	if m.CAFile != "" {
		pem, err := os.ReadFile(m.CAFile)
		if err != nil {
			return nil, c.errorf("mail.ca_file", "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, c.errorf("mail.ca_file", "%s holds no PEM certificate", m.CAFile)
		}
		opts.TLSConfig = &tls.Config{ServerName: m.Host, RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	mailer, err := reconcile.NewSMTPMailer(opts)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return mailer, nil
}
