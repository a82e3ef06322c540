package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/config"
)

// sftpFiles makes a known_hosts file, a private key file and a public key
// file in a folder, and returns their paths.
func sftpFiles(t *testing.T) (knownHosts, keyFile, pubFile string) {
	t.Helper()
	dir := t.TempDir()
	knownHosts = filepath.Join(dir, "known_hosts")
	keyFile = filepath.Join(dir, "id_ed25519")
	pubFile = keyFile + ".pub"
	key, pub := testKey(t)
	for path, text := range map[string]string{
		knownHosts: "# the library's server\n[sftp.example.edu]:2222 " + pub + "sftp.example.edu " + pub,
		keyFile:    key,
		pubFile:    pub,
	} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return knownHosts, keyFile, pubFile
}

// sftpConfig is minimalConfig with an sftp library drop of these lines.
func sftpConfig(lines ...string) string {
	return strings.Replace(minimalConfig, "type = \"dir\"\npath = \"/srv/lib\"\n",
		"type = \"sftp\"\n"+strings.Join(lines, "\n")+"\n", 1)
}

// TestSFTPConfig: a good sftp drop is read with its keys, a relative
// known_hosts or key file is taken in the config file's folder, and the
// timeout has its default.
func TestSFTPConfig(t *testing.T) {
	knownHosts, keyFile, _ := sftpFiles(t)
	dir := filepath.Dir(knownHosts)
	text := sftpConfig(`address = "sftp.example.edu:2222"`, `user = "feesync"`, `root = "/srv/alma"`,
		`known_hosts = "known_hosts"`, `key_file = "id_ed25519"`)
	path := filepath.Join(dir, "feesync.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	l := c.Library
	if l.Type != "sftp" || l.KnownHosts != knownHosts || l.KeyFile != keyFile || l.Root != "/srv/alma" ||
		l.Timeout != config.DefaultSFTPTimeout || l.TLS != "" || l.PasswordEnv != "" {
		t.Errorf("library = %+v", l)
	}
	var folders []string
	for _, f := range c.Folders() {
		if f.Drop == "library" {
			folders = append(folders, f.Path)
		}
	}
	if folders[0] != "sftp://sftp.example.edu:2222//srv/alma/exports" {
		t.Errorf("folders = %q", folders)
	}
	// A host alone is SSH's port 22, which known_hosts lists by name.
	text = sftpConfig(`address = "sftp.example.edu"`, `user = "feesync"`, `known_hosts = "`+knownHosts+`"`, `key_file = "`+keyFile+`"`)
	if _, err := config.Parse(strings.NewReader(text), "f.toml"); err != nil {
		t.Errorf("address without a port: %v", err)
	}
	// A fingerprint and a password instead.
	text = sftpConfig(`address = "sftp.example.edu:22"`, `user = "feesync"`,
		`host_key_sha256 = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"`, `password_env = "SFTP_PW"`)
	c, err = config.Parse(strings.NewReader(text), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	refs := c.Secrets()
	if last := refs[len(refs)-1]; last.Key != "library.password" || last.Env != "SFTP_PW" {
		t.Errorf("secrets = %+v, want the sftp password last", refs)
	}
}

// TestSFTPConfigErrors: every mistake of an sftp drop is explained in
// plain words, naming the file, the line and the key, all at once.
func TestSFTPConfigErrors(t *testing.T) {
	knownHosts, keyFile, pubFile := sftpFiles(t)
	empty := filepath.Join(t.TempDir(), "empty_known_hosts")
	if err := os.WriteFile(empty, []byte("# nothing yet\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	encrypted, _ := testKey(t, "open sesame")
	encryptedFile := filepath.Join(t.TempDir(), "id_encrypted")
	garbled := filepath.Join(t.TempDir(), "id_garbled")
	badHosts := filepath.Join(t.TempDir(), "bad_known_hosts")
	for path, text := range map[string]string{
		encryptedFile: encrypted,
		garbled:       "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n",
		badHosts:      "sftp.example.edu ssh-ed25519 not-base64!\n",
	} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr, user := `address = "sftp.example.edu:22"`, `user = "feesync"`
	kh, key := `known_hosts = "`+knownHosts+`"`, `key_file = "`+keyFile+`"`
	for _, tc := range []struct {
		name  string
		lines []string
		want  []string // parts of the error, each on its own line
	}{
		{"no host key", []string{addr, user, key},
			[]string{`f.toml: library.known_hosts: missing: an sftp drop always verifies the server's host key: set known_hosts (the path of a known_hosts file that lists the server) or host_key_sha256 (its fingerprint, "SHA256:…"); ` +
				"`ssh-keyscan -p PORT HOST > known_hosts` fetches the key, and `ssh-keygen -lf known_hosts` prints its fingerprint"}},
		{"both host keys", []string{addr, user, key, kh, `host_key_sha256 = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"`},
			[]string{"f.toml:8: library.host_key_sha256: set known_hosts or host_key_sha256, not both"}},
		{"fingerprint without prefix", []string{addr, user, key, `host_key_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"`},
			[]string{`f.toml:7: library.host_key_sha256: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" is not a SHA256 fingerprint ("SHA256:" and 43 base64 characters, as ssh-keygen -lf prints it)`}},
		{"fingerprint cut short", []string{addr, user, key, `host_key_sha256 = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5"`},
			[]string{`library.host_key_sha256: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5" is not a SHA256 fingerprint`}},
		{"MD5 fingerprint", []string{addr, user, key, `host_key_sha256 = "16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"`},
			[]string{"library.host_key_sha256: \"16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48\" is an MD5 fingerprint: feesync pins the SHA256 one, which `ssh-keygen -lf -E sha256 FILE` prints"}},
		{"public key as fingerprint", []string{addr, user, key, `host_key_sha256 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDkLw2UQ3wVwlHiOHxfqLW2ehNR9Xm0xkPnfI5Z7i2nH"`},
			[]string{"library.host_key_sha256: is a public key, not its fingerprint: `ssh-keygen -lf FILE` prints the fingerprint"}},
		{"known_hosts missing", []string{addr, user, key, `known_hosts = "` + missing + `"`},
			[]string{"f.toml:7: library.known_hosts: " + missing + ": cannot be read: no such file or directory"}},
		{"known_hosts empty", []string{addr, user, key, `known_hosts = "` + empty + `"`},
			[]string{"library.known_hosts: " + empty + ": lists no host key: `ssh-keyscan -p PORT HOST >> " + empty + "` adds the server's"}},
		{"server not in known_hosts", []string{`address = "other.example.edu:22"`, user, key, kh},
			[]string{"f.toml:7: library.known_hosts: " + knownHosts + ": does not list other.example.edu:22 (for a port other than 22 the line starts with [host]:port): `ssh-keyscan -p PORT HOST >> " + knownHosts + "` adds the server's key"}},
		{"known_hosts garbled", []string{addr, user, key, `known_hosts = "` + badHosts + `"`},
			[]string{"f.toml:7: library.known_hosts: " + badHosts + ": is not a known_hosts file: no valid entries, line 1: illegal base64 data"}},
		{"encrypted key without passphrase", []string{addr, user, kh, `key_file = "` + encryptedFile + `"`},
			[]string{"f.toml:7: library.key_file: " + encryptedFile + ": is encrypted: set key_passphrase_env or key_passphrase_file to where its passphrase is"}},
		{"garbled key", []string{addr, user, kh, `key_file = "` + garbled + `"`},
			[]string{"f.toml:7: library.key_file: " + garbled + ": is not a private key that SSH can use: "}},
		{"no login", []string{addr, user, kh},
			[]string{"f.toml: library.key_file: missing: how feesync logs in: set key_file (a private key file), key_env (a variable holding the key) or key_agent = true, or a password with password_env or password_file"}},
		{"known_hosts is a folder", []string{addr, user, key, `known_hosts = "` + filepath.Dir(knownHosts) + `"`},
			[]string{"f.toml:7: library.known_hosts: " + filepath.Dir(knownHosts) + ": is a folder, not a file"}},
		{"key file is a device", []string{addr, user, kh, `key_file = "/dev/zero"`},
			[]string{"f.toml:7: library.key_file: /dev/zero: is not a regular file"}},
		{"two keys", []string{addr, user, kh, key, `key_agent = true`},
			[]string{"f.toml:7: library.key_file: set one of key_file, key_env and key_agent, not several"}},
		{"key file missing", []string{addr, user, kh, `key_file = "` + missing + `"`},
			[]string{"f.toml:7: library.key_file: " + missing + ": cannot be read: no such file or directory"}},
		{"public key file", []string{addr, user, kh, `key_file = "` + pubFile + `"`},
			[]string{"library.key_file: " + pubFile + ": is a public key: give the private key (the file without .pub)"}},
		{"not a key", []string{addr, user, kh, `key_file = "` + knownHosts + `"`},
			[]string{"library.key_file: " + knownHosts + ": is not a private key (OpenSSH or PEM: it starts with -----BEGIN)"}},
		{"passphrase without key", []string{addr, user, kh, `password_env = "PW"`, `key_passphrase_env = "PP"`},
			[]string{"f.toml:8: library.key_passphrase_env: a passphrase without a key: set key_file or key_env"}},
		{"key value in key_env", []string{addr, user, kh, `key_env = "-----BEGIN OPENSSH PRIVATE KEY-----"`},
			[]string{`library.key_env: "-----BEGIN OPENSSH PRIVATE KEY-----" is not an environment variable name`}},
		{"key in the file", []string{addr, user, kh, `key = "-----BEGIN OPENSSH PRIVATE KEY-----"`},
			[]string{"f.toml:7: library.key: secrets are never written in the config file: use key_file or key_env"}},
		{"password env and file", []string{addr, user, kh, `password_env = "PW"`, `password_file = "/run/pw"`},
			[]string{"library.password_file: set library.password_env or library.password_file, not both"}},
		{"tls on sftp", []string{addr, user, kh, key, `tls = "explicit"`},
			[]string{"f.toml:8: library.tls: is a key of an ftp drop: SFTP always encrypts, through SSH; remove it"}},
		{"bad address", []string{`address = "sftp.example.edu:22:22"`, user, kh, key},
			[]string{`f.toml:4: library.address: "sftp.example.edu:22:22" is not host or host:port (SFTP's port is usually 22: "sftp.example.edu:22")`}},
		{"no address, no user", []string{kh, key},
			[]string{`f.toml: library.address: missing: the SFTP server's host or host:port, such as "sftp.example.edu:22"`,
				"f.toml: library.user: missing: the SSH login"}},
		{"every mistake at once", []string{`address = "x:y:z"`, `key_agent = true`, `key_passphrase_env = "PP"`},
			[]string{"library.address:", "library.user: missing", "library.known_hosts: missing",
				"library.key_passphrase_env: the agent's keys are already unlocked: remove the passphrase"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(sftpConfig(tc.lines...)), "f.toml")
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error\n got: %s\nwant: %s", err, want)
				}
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want *config.Error", err)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY-----\n") {
				t.Errorf("error shows a key: %v", err)
			}
		})
	}
}

// TestSFTPKeysOnOtherDrops: the SFTP keys belong to an sftp drop; on an
// ftp or dir drop they are a mistake, not ignored.
func TestSFTPKeysOnOtherDrops(t *testing.T) {
	ftp := strings.Replace(minimalConfig, "type = \"dir\"\npath = \"/srv/lib\"\n",
		"type = \"ftp\"\naddress = \"ftp:21\"\nuser = \"u\"\nhost_key_sha256 = \"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\"\n", 1)
	dir := strings.Replace(minimalConfig, "path = \"/srv/ps\"\n", "path = \"/srv/ps\"\nkey_file = \"/k\"\n", 1)
	for text, want := range map[string]string{
		ftp: `f.toml:6: library.host_key_sha256: is a key of an "sftp" drop, not of an "ftp" one`,
		dir: `peoplesoft.address: a "dir" drop takes a path, not an address, user or key`,
	} {
		_, err := config.Parse(strings.NewReader(text), "f.toml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %s", err, want)
		}
	}
}
