package reconcile

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	mail "github.com/wneessen/go-mail"
)

// SMTPOptions configure [SMTPMailer].
type SMTPOptions struct {
	Host     string
	Port     int    // 587 when zero
	Username string // no authentication when empty
	Password string // from the environment or a file, never from argv
	From     string
	// TLSConfig, when set, replaces the default TLS settings (for example
	// to trust a campus CA).
	TLSConfig *tls.Config
	Timeout   time.Duration // 30 s when zero
	// Security is how the connection is protected: "starttls" (the
	// default: STARTTLS is required), "tls" (TLS from the first byte,
	// port 465) or "none" (plain SMTP, for a relay on the same host).
	Security string
	// SubjectPrefix, when set, starts every subject ("[feebridge] ").
	SubjectPrefix string
}

// SMTPMailer sends mail by SMTP (STARTTLS required unless
// SMTPOptions.Security says otherwise), through the go-mail library.
type SMTPMailer struct {
	opts SMTPOptions
}

// NewSMTPMailer returns a mailer for opts; it fails if the host or the
// sender is missing.
func NewSMTPMailer(opts SMTPOptions) (*SMTPMailer, error) {
	if opts.Host == "" || opts.From == "" {
		return nil, errors.New("reconcile: SMTP needs a host and a sender")
	}
	if opts.Port == 0 {
		opts.Port = 587
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	return &SMTPMailer{opts: opts}, nil
}

// Send sends m. Errors name the server but never carry the password.
func (s *SMTPMailer) Send(ctx context.Context, m Mail) error {
	msg := mail.NewMsg()
	if err := msg.From(s.opts.From); err != nil {
		return fmt.Errorf("reconcile: mail sender: %w", err)
	}
	if err := msg.To(m.To...); err != nil {
		return fmt.Errorf("reconcile: mail recipients: %w", err)
	}
	msg.Subject(s.opts.SubjectPrefix + m.Subject)
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		opts := []mail.FileOption{}
		if a.ContentType != "" {
			opts = append(opts, mail.WithFileContentType(mail.ContentType(a.ContentType)))
		}
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), opts...); err != nil {
			return fmt.Errorf("reconcile: mail attachment %s: %w", a.Name, err)
		}
	}
	copts := []mail.Option{mail.WithPort(s.opts.Port), mail.WithTimeout(s.opts.Timeout)}
	switch s.opts.Security {
	case "tls":
		copts = append(copts, mail.WithSSL())
	case "none":
		copts = append(copts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		copts = append(copts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.opts.TLSConfig != nil {
		copts = append(copts, mail.WithTLSConfig(s.opts.TLSConfig))
	}
	if s.opts.Username != "" {
		copts = append(copts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.opts.Username), mail.WithPassword(s.opts.Password))
	}
	c, err := mail.NewClient(s.opts.Host, copts...)
	if err != nil {
		return fmt.Errorf("reconcile: mail client for %s: %w", s.opts.Host, err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("reconcile: send mail through %s:%d: %w", s.opts.Host, s.opts.Port, err)
	}
	return nil
}
