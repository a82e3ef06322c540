package sftpdrop

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/internal/remote"
)

// hostKeyCheck returns the callback that checks the server's host key and
// the key algorithms to ask for (those the known_hosts file lists for the
// host, so that the server does not offer a key of another type, which
// would look like a changed key). There is no check that accepts any key.
func hostKeyCheck(cfg Config) (func(string, net.Addr, ssh.PublicKey) error, []string, error) {
	switch {
	case cfg.KnownHosts != "" && cfg.HostKeySHA256 != "":
		return nil, nil, errors.New("sftpdrop: both a known_hosts file and a pinned host key fingerprint are set: keep one")
	case cfg.HostKeySHA256 != "":
		want, err := normalFingerprint(cfg.HostKeySHA256)
		if err != nil {
			return nil, nil, err
		}
		return func(host string, _ net.Addr, key ssh.PublicKey) error {
			got := ssh.FingerprintSHA256(key)
			if got == want {
				return nil
			}
			return remote.Cause(ErrHostKeyChanged, transport.Permission, fmt.Sprintf(
				"the host key of %s is not the one pinned: the server offered %s key %s, the configuration pins %s; "+
					"if the server's key was changed on purpose, compare with ssh-keygen -lf on the server and update host_key_sha256",
				cfg.Address, keyType(key), got, want), errors.New("host key mismatch"))
		}, nil, nil
	case cfg.KnownHosts != "":
		cb, err := knownhosts.New(cfg.KnownHosts)
		if err != nil {
			return nil, nil, fmt.Errorf("sftpdrop: reading the known_hosts file: %w", err)
		}
		return func(host string, addr net.Addr, key ssh.PublicKey) error {
			err := cb(host, addr, key)
			var ke *knownhosts.KeyError
			var re *knownhosts.RevokedError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ke) && len(ke.Want) == 0:
				return remote.Cause(ErrHostKeyUnknown, transport.Permission, fmt.Sprintf(
					"the host key of %s is not in %s: the server offered %s key %s; "+
						"if that is the server's key (compare with ssh-keygen -lf on the server), add it to the file",
					cfg.Address, cfg.KnownHosts, keyType(key), ssh.FingerprintSHA256(key)), err)
			case errors.As(err, &ke):
				known := make([]string, len(ke.Want))
				for i, k := range ke.Want {
					known[i] = fmt.Sprintf("%s (line %d)", ssh.FingerprintSHA256(k.Key), k.Line)
				}
				return remote.Cause(ErrHostKeyChanged, transport.Permission, fmt.Sprintf(
					"the host key of %s has changed: the server offered %s key %s, %s knows %s; "+
						"someone may be in the middle, or the key was changed on purpose: check with the server's administrator before updating the file",
					cfg.Address, keyType(key), ssh.FingerprintSHA256(key), cfg.KnownHosts, strings.Join(known, ", ")), err)
			case errors.As(err, &re):
				return remote.Cause(ErrHostKeyChanged, transport.Permission, fmt.Sprintf(
					"the host key of %s, %s, is revoked in %s", cfg.Address, ssh.FingerprintSHA256(key), cfg.KnownHosts), err)
			}
			return err
		}, knownAlgorithms(cb, cfg.Address), nil
	}
	return nil, nil, errors.New("sftpdrop: no way to check the server's host key: set a known_hosts file or a pinned host key fingerprint (SHA256:...)")
}

// normalFingerprint checks a pinned fingerprint and returns it as
// ssh.FingerprintSHA256 prints it.
func normalFingerprint(s string) (string, error) {
	fp := strings.TrimSpace(s)
	if !strings.HasPrefix(fp, "SHA256:") {
		return "", fmt.Errorf("sftpdrop: the pinned host key fingerprint %q does not start with \"SHA256:\" (copy it from ssh-keygen -lf)", s)
	}
	fp = strings.TrimRight(fp, "=")
	if len(fp) != len("SHA256:")+43 {
		return "", fmt.Errorf("sftpdrop: the pinned host key fingerprint %q is not a SHA256 fingerprint (43 base64 characters after \"SHA256:\")", s)
	}
	return fp, nil
}

// keyType names a key's type as ssh-keygen does (ED25519, RSA, ECDSA).
func keyType(key ssh.PublicKey) string {
	t := strings.TrimPrefix(key.Type(), "ssh-")
	if strings.HasPrefix(t, "ecdsa") {
		return "ECDSA"
	}
	return strings.ToUpper(t)
}

// knownAlgorithms asks the known_hosts check which keys it knows for
// address, with a key it cannot know, and returns their algorithms.
func knownAlgorithms(cb ssh.HostKeyCallback, address string) []string {
	probe, err := ssh.NewPublicKey(make([]byte, 32)) // an ed25519 key of zeros
	if err != nil {
		return nil
	}
	tcp, _ := net.ResolveTCPAddr("tcp", address)
	var remote net.Addr = tcp
	if tcp == nil {
		remote = &net.TCPAddr{}
	}
	var ke *knownhosts.KeyError
	if !errors.As(cb(address, remote, probe), &ke) || len(ke.Want) == 0 {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
			add(ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}
