package config_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testKey makes an Ed25519 key: the private key in OpenSSH's format,
// encrypted with passphrase when it is not empty, and the public key's
// line as in a .pub file.
func testKey(t *testing.T, passphrase ...string) (private, publicLine string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if len(passphrase) > 0 {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "feesync-test", []byte(passphrase[0]))
	} else {
		block, err = ssh.MarshalPrivateKey(priv, "feesync-test")
	}
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block)), string(ssh.MarshalAuthorizedKey(sshPub))
}
