package config

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/sftpdrop"
)

// SFTPConfig are the keys of an "sftp" drop (SSH File Transfer Protocol),
// beside address, user, root, password_env, password_file and timeout,
// which it shares with an "ftp" drop.
//
// The server's host key is always verified, against a known_hosts file
// or a pinned fingerprint: exactly one of KnownHosts and HostKeySHA256 is
// set. There is no setting that accepts any key. The login is by a private
// key (KeyFile, KeyEnv or KeyAgent), by a password (the drop's
// password_env or password_file), or both when the server asks for both.
type SFTPConfig struct {
	// KnownHosts is the path of a known_hosts file (OpenSSH's format)
	// that lists the server's host key; a relative path is taken in the
	// config file's folder.
	KnownHosts string `toml:"known_hosts"`
	// HostKeySHA256 pins the server's host key by its fingerprint,
	// "SHA256:" and 43 base64 characters, as `ssh-keygen -lf` prints it.
	HostKeySHA256 string `toml:"host_key_sha256"`
	// KeyFile is the path of the private key that logs in (OpenSSH or PEM
	// format); a relative path is taken in the config file's folder.
	KeyFile string `toml:"key_file"`
	// KeyEnv names the environment variable that holds the private key
	// itself (or, with _FILE appended, the path of a file holding it).
	KeyEnv string `toml:"key_env"`
	// KeyAgent logs in with the keys of the SSH agent at $SSH_AUTH_SOCK.
	KeyAgent bool `toml:"key_agent"`
	// KeyPassphraseEnv and KeyPassphraseFile say where the passphrase of
	// an encrypted private key is.
	KeyPassphraseEnv  string `toml:"key_passphrase_env"`
	KeyPassphraseFile string `toml:"key_passphrase_file"`
}

// DefaultSFTPTimeout is the timeout of one SFTP operation when the drop
// names none.
const DefaultSFTPTimeout = Duration(time.Minute)

// sftpKeys are the keys of SFTPConfig, in the order of the file.
var sftpKeys = []string{"known_hosts", "host_key_sha256", "key_file", "key_env", "key_agent",
	"key_passphrase_env", "key_passphrase_file"}

// setSFTPDefaults fills in the defaults of an "sftp" drop.
func setSFTPDefaults(d *DropConfig) {
	if d.Type == "sftp" && d.Timeout == 0 {
		d.Timeout = DefaultSFTPTimeout
	}
}

// resolveSFTPPaths takes the relative known_hosts and key files of the
// drops in the config file's folder dir.
func (c *Config) resolveSFTPPaths(dir string) {
	for _, d := range []*DropConfig{&c.Library.DropConfig, &c.PeopleSoft.DropConfig} {
		for _, p := range []*string{&d.KnownHosts, &d.KeyFile, &d.KeyPassphraseFile} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
}

// sftpKeySet is the first SFTP key set on a drop that is not "sftp", or "".
func sftpKeySet(d *DropConfig) string {
	s := d.SFTPConfig
	for i, set := range []bool{s.KnownHosts != "", s.HostKeySHA256 != "", s.KeyFile != "", s.KeyEnv != "", s.KeyAgent,
		s.KeyPassphraseEnv != "", s.KeyPassphraseFile != ""} {
		if set {
			return sftpKeys[i]
		}
	}
	return ""
}

// checkSFTP checks an "sftp" drop and returns every mistake, joined.
func (c *Config) checkSFTP(key string, d *DropConfig) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	host, _, err := net.SplitHostPort(sshAddress(d.Address))
	switch {
	case d.Address == "":
		add(c.errorf(key+".address", `missing: the SFTP server's host or host:port, such as "sftp.example.edu:22"`))
	case err != nil:
		add(c.errorf(key+".address", "%q is not host or host:port (SFTP's port is usually 22: %q)", d.Address, "sftp.example.edu:22"))
	case host == "":
		add(c.errorf(key+".address", "%q names no host", d.Address))
	}
	if d.User == "" {
		add(c.errorf(key+".user", "missing: the SSH login"))
	}
	if d.TLS != "" {
		add(c.errorf(key+".tls", "is a key of an ftp drop: SFTP always encrypts, through SSH; remove it"))
	}
	add(c.checkHostKey(key, d))
	add(c.checkLogin(key, d))
	return errors.Join(errs...)
}

// sshAddress is address with SSH's port 22 when it names none, as the
// driver takes it.
func sshAddress(address string) string {
	if _, _, err := net.SplitHostPort(address); err != nil && address != "" && !strings.Contains(address, ":") {
		return net.JoinHostPort(address, "22")
	}
	return address
}

// checkHostKey checks that exactly one way to verify the host key is set,
// and that it can be used.
func (c *Config) checkHostKey(key string, d *DropConfig) error {
	s := d.SFTPConfig
	switch {
	case s.KnownHosts == "" && s.HostKeySHA256 == "":
		return c.errorf(key+".known_hosts", "missing: an sftp drop always verifies the server's host key: "+
			`set known_hosts (the path of a known_hosts file that lists the server) or host_key_sha256 (its fingerprint, "SHA256:…"); `+
			"`ssh-keyscan -p PORT HOST > known_hosts` fetches the key, and `ssh-keygen -lf known_hosts` prints its fingerprint, "+
			"to compare with the one the server's administrator gives you")
	case s.KnownHosts != "" && s.HostKeySHA256 != "":
		return c.errorf(key+".host_key_sha256", "set known_hosts or host_key_sha256, not both")
	case s.HostKeySHA256 != "":
		if err := checkFingerprint(s.HostKeySHA256); err != nil {
			return c.errorf(key+".host_key_sha256", "%v", err)
		}
		return nil
	}
	if err := checkKnownHosts(s.KnownHosts, sshAddress(d.Address)); err != nil {
		return c.errorf(key+".known_hosts", "%s: %v", s.KnownHosts, err)
	}
	return nil
}

// checkFingerprint says what is wrong with a host key fingerprint, or nil.
func checkFingerprint(fp string) error {
	const want = `"SHA256:" and 43 base64 characters, as ssh-keygen -lf prints it`
	switch {
	case strings.HasPrefix(fp, "ssh-") || strings.HasPrefix(fp, "ecdsa-"):
		return fmt.Errorf("is a public key, not its fingerprint: `ssh-keygen -lf FILE` prints the fingerprint (%s)", want)
	case strings.HasPrefix(fp, "MD5:") || md5RE.MatchString(fp):
		return fmt.Errorf("%q is an MD5 fingerprint: feesync pins the SHA256 one, which `ssh-keygen -lf -E sha256 FILE` prints", fp)
	case !strings.HasPrefix(fp, "SHA256:"):
		return fmt.Errorf("%q is not a SHA256 fingerprint (%s)", fp, want)
	}
	b64 := strings.TrimRight(strings.TrimPrefix(fp, "SHA256:"), "=")
	sum, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(sum) != 32 {
		return fmt.Errorf("%q is not a SHA256 fingerprint (%s)", fp, want)
	}
	return nil
}

var md5RE = regexp.MustCompile(`^([0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2}$`)

// checkKnownHosts checks that the known_hosts file can be read and
// parsed, and that it lists the server at address (by its name as written
// in the config; nothing is looked up on the network).
func checkKnownHosts(path, address string) error {
	b, err := readSmallFile(path, maxKnownHosts)
	if err != nil {
		return err
	}
	add := fmt.Sprintf("`ssh-keyscan -p PORT HOST >> %s` adds the server's key (check its fingerprint with ssh-keygen -lf against the server's own)", path)
	if !hasKeyLine(b) {
		return fmt.Errorf("lists no host key: %s", add)
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		return fmt.Errorf("is not a known_hosts file: %s", strings.TrimPrefix(err.Error(), "knownhosts: "+path+": "))
	}
	if _, _, err := net.SplitHostPort(address); err != nil {
		return nil // the address's own error is reported
	}
	// A key that cannot be listed tells which keys the file has for the
	// server: none means the server is not listed.
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if errors.As(cb(address, &net.TCPAddr{}, probe), &ke) && len(ke.Want) == 0 {
		return fmt.Errorf("does not list %s (for a port other than 22 the line starts with [host]:port): %s", address, add)
	}
	return nil
}

// The largest known_hosts and private key files read.
const (
	maxKnownHosts = 16 << 20
	maxKeyFile    = 1 << 20
)

// readSmallFile reads a regular file of at most max bytes, or says why it
// cannot (in words for check-config: no path, no *PathError).
func readSmallFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("cannot be read: %w", err)
	case fi.IsDir():
		return nil, errors.New("is a folder, not a file")
	case !fi.Mode().IsRegular():
		return nil, errors.New("is not a regular file")
	case fi.Size() > max:
		return nil, fmt.Errorf("is %d bytes, too large for this kind of file (at most %d)", fi.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	return b, nil
}

// hasKeyLine reports whether a known_hosts text has a line other than
// blanks and comments.
func hasKeyLine(b []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			return true
		}
	}
	return false
}

// checkLogin checks that the drop says how to log in, and that the key
// and passphrase settings make sense.
func (c *Config) checkLogin(key string, d *DropConfig) error {
	s := d.SFTPConfig
	password := d.PasswordEnv != "" || d.PasswordFile != ""
	n := 0
	for _, set := range []bool{s.KeyFile != "", s.KeyEnv != "", s.KeyAgent} {
		if set {
			n++
		}
	}
	var errs []error
	switch {
	case n == 0 && !password:
		errs = append(errs, c.errorf(key+".key_file", "missing: how feesync logs in: set key_file (a private key file), "+
			"key_env (a variable holding the key) or key_agent = true, or a password with password_env or password_file"))
	case n > 1:
		errs = append(errs, c.errorf(key+".key_file", "set one of key_file, key_env and key_agent, not several"))
	}
	if n == 0 && (s.KeyPassphraseEnv != "" || s.KeyPassphraseFile != "") {
		errs = append(errs, c.errorf(key+".key_passphrase_env", "a passphrase without a key: set key_file or key_env"))
	}
	if s.KeyAgent && (s.KeyPassphraseEnv != "" || s.KeyPassphraseFile != "") {
		errs = append(errs, c.errorf(key+".key_passphrase_env", "the agent's keys are already unlocked: remove the passphrase"))
	}
	if s.KeyFile != "" && n == 1 {
		passphrase := s.KeyPassphraseEnv != "" || s.KeyPassphraseFile != ""
		if err := checkKeyFile(s.KeyFile, passphrase); err != nil {
			errs = append(errs, c.errorf(key+".key_file", "%s: %v", s.KeyFile, err))
		}
	}
	errs = append(errs,
		c.checkSecretRef(key+".key", s.KeyEnv, ""),
		c.checkSecretRef(key+".key_passphrase", s.KeyPassphraseEnv, s.KeyPassphraseFile),
		c.checkSecretRef(key+".password", d.PasswordEnv, d.PasswordFile))
	return errors.Join(errs...)
}

// checkKeyFile checks that a private key file can be read and parsed,
// and that an encrypted key has a passphrase setting (passphrase says so).
func checkKeyFile(path string, passphrase bool) error {
	b, err := readSmallFile(path, maxKeyFile)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(string(b))
	switch {
	case text == "":
		return errors.New("is empty")
	case strings.HasPrefix(text, "ssh-") || strings.HasPrefix(text, "ecdsa-"):
		return errors.New("is a public key: give the private key (the file without .pub), whose public half is in the server's authorized_keys")
	case !strings.HasPrefix(text, "-----BEGIN "):
		return errors.New("is not a private key (OpenSSH or PEM: it starts with -----BEGIN)")
	}
	_, err = ssh.ParseRawPrivateKey(b)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing) && !passphrase:
		return errors.New("is encrypted: set key_passphrase_env or key_passphrase_file to where its passphrase is")
	case errors.As(err, &missing):
		return nil // the passphrase is a secret, tried when the drop opens
	case err != nil:
		return fmt.Errorf("is not a private key that SSH can use: %v", err)
	}
	return nil
}

// sftpPassword is where the password of an "sftp" drop lives, when it
// has one.
func (d DropConfig) sftpPassword(key string) (SecretRef, bool) {
	return d.password(key), d.PasswordEnv != "" || d.PasswordFile != ""
}

// sftpKey is where the private key of an "sftp" drop lives, when it is
// not the agent's.
func (d DropConfig) sftpKey(key string) (SecretRef, bool) {
	return SecretRef{Key: key + ".key", Env: d.KeyEnv, File: d.KeyFile}, d.KeyEnv != "" || d.KeyFile != ""
}

// sftpPassphrase is where the passphrase of an "sftp" drop's key lives,
// when it has one.
func (d DropConfig) sftpPassphrase(key string) (SecretRef, bool) {
	return SecretRef{Key: key + ".key_passphrase", Env: d.KeyPassphraseEnv, File: d.KeyPassphraseFile},
		d.KeyPassphraseEnv != "" || d.KeyPassphraseFile != ""
}

// sftpSecrets are the secrets an "sftp" drop needs that are not files
// checked with the config (its key from a variable, its password, its
// passphrase).
func (d DropConfig) sftpSecrets(key string) []SecretRef {
	var refs []SecretRef
	if d.KeyEnv != "" {
		ref, _ := d.sftpKey(key)
		refs = append(refs, ref)
	}
	for _, get := range []func(string) (SecretRef, bool){d.sftpPassphrase, d.sftpPassword} {
		if ref, ok := get(key); ok {
			refs = append(refs, ref)
		}
	}
	return refs
}

// openSFTP opens the "sftp" drop d under key: it reads its secrets, then
// connects, checks the host key and logs in. An error names the setting
// that causes it (key.known_hosts, key.user/key, key.root, …).
func openSFTP(ctx context.Context, o *Options, key string, d DropConfig, log *slog.Logger, dopts *transport.DropOptions) (*transport.Drop, error) {
	cfg := sftpdrop.Config{
		Address: d.Address, User: d.User, Root: d.Root,
		KnownHosts: d.KnownHosts, HostKeySHA256: d.HostKeySHA256,
		KeyFile: d.KeyFile, UseAgent: d.KeyAgent,
		Timeout: d.Timeout.D(), Logger: log, Drop: dopts,
	}
	if d.KeyEnv != "" {
		ref, _ := d.sftpKey(key)
		k, err := ref.Load(o.Getenv)
		if err != nil {
			return nil, err
		}
		cfg.Key = []byte(k.Reveal() + "\n")
	}
	if ref, ok := d.sftpPassphrase(key); ok {
		p, err := ref.Load(o.Getenv)
		if err != nil {
			return nil, err
		}
		cfg.KeyPassphrase = []byte(p.Reveal())
	}
	if ref, ok := d.sftpPassword(key); ok {
		p, err := ref.Load(o.Getenv)
		if err != nil {
			return nil, err
		}
		cfg.Password = p.Reveal()
	}
	drop, err := sftpdrop.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sftpKeyOf(key, d, err), err)
	}
	return drop, nil
}

// sftpKeyOf names the setting of the sftp drop under key that err is
// about, when the driver knows its cause.
func sftpKeyOf(key string, d DropConfig, err error) string {
	switch {
	case errors.Is(err, sftpdrop.ErrHostKeyUnknown), errors.Is(err, sftpdrop.ErrHostKeyChanged):
		if d.HostKeySHA256 != "" {
			return key + ".host_key_sha256"
		}
		return key + ".known_hosts"
	case errors.Is(err, sftpdrop.ErrLoginRefused):
		var how []string
		if d.KeyFile != "" || d.KeyEnv != "" || d.KeyAgent {
			how = append(how, "key")
		}
		if d.PasswordEnv != "" || d.PasswordFile != "" {
			how = append(how, "password")
		}
		return key + ".user/" + strings.Join(how, "/")
	case errors.Is(err, sftpdrop.ErrNoRoot):
		return key + ".root"
	}
	return key
}
