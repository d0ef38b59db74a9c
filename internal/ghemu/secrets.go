package ghemu

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// Actions secrets, as GitHub keeps them: each scope (the repository, or one
// environment) has its own curve25519 key pair; clients read the public key, seal the
// value in a libsodium sealed box for it and PUT the base64 of the box with the key's
// id. The emulator opens the box with the private key (box.OpenAnonymous), so a client
// that encrypts wrongly gets the 422 GitHub would give, and stores the plaintext for
// the scenario (Secret) — GitHub itself never gives a value back.

// RepoScope is the scope argument of Secret and SetSecret for repository secrets; any
// other scope is an environment name.
const RepoScope = ""

type secretScope struct {
	keyID   string
	pub     *[32]byte
	priv    *[32]byte
	values  map[string]string
	updated map[string]time.Time
}

type secretStore struct {
	scopes    map[string]*secretScope
	forbidden bool
	nextKey   int64
	writes    int
}

var secretNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// scope returns (creating on first use) the key pair and values of one scope.
func (st *secretStore) scope(name string) *secretScope {
	if st.scopes == nil {
		st.scopes = map[string]*secretScope{}
	}
	sc := st.scopes[name]
	if sc == nil {
		pub, priv, err := box.GenerateKey(rand.Reader)
		if err != nil {
			panic(fmt.Sprintf("ghemu: generate a secrets key pair: %v", err))
		}
		st.nextKey++
		sc = &secretScope{keyID: fmt.Sprintf("3380204578043523%04d", st.nextKey), pub: pub, priv: priv,
			values: map[string]string{}, updated: map[string]time.Time{}}
		st.scopes[name] = sc
	}
	return sc
}

// SetSecretsForbidden makes every secrets request answer 403 "Resource not accessible
// by integration", GitHub's answer to GITHUB_TOKEN (which has no secrets permission) or
// to an App or fine-grained token without the Secrets permission.
func (s *Server) SetSecretsForbidden(on bool) {
	_, _, unlock := s.lock()
	defer unlock()
	s.secrets.forbidden = on
}

// SetSecret stores a secret as if it had been written before the scenario (scope is
// RepoScope or an environment name).
func (s *Server) SetSecret(scope, name, value string) {
	_, now, unlock := s.lock()
	defer unlock()
	sc := s.secrets.scope(scope)
	sc.values[name] = value
	sc.updated[name] = now
}

// Secret returns the decrypted value last written to a secret, as the workflow that
// reads it would see it.
func (s *Server) Secret(scope, name string) (string, bool) {
	_, _, unlock := s.lock()
	defer unlock()
	sc := s.secrets.scopes[scope]
	if sc == nil {
		return "", false
	}
	v, ok := sc.values[name]
	return v, ok
}

// SecretWrites counts the secret writes the emulator accepted.
func (s *Server) SecretWrites() int {
	_, _, unlock := s.lock()
	defer unlock()
	return s.secrets.writes
}

// SecretsKeyID returns the id of a scope's current public key (the key a write must name).
func (s *Server) SecretsKeyID(scope string) string {
	_, _, unlock := s.lock()
	defer unlock()
	return s.secrets.scope(scope).keyID
}

func secretsForbidden() reply {
	return errReply(http.StatusForbidden, "Resource not accessible by integration")
}

func getRepoSecretsKey(c *rc) reply { return secretsKey(c, RepoScope) }
func getEnvSecretsKey(c *rc) reply  { return secretsKey(c, c.params["environment"]) }

func secretsKey(c *rc, scope string) reply {
	if c.s.secrets.forbidden {
		return secretsForbidden()
	}
	sc := c.s.secrets.scope(scope)
	return jsonReply(http.StatusOK, map[string]string{"key_id": sc.keyID, "key": base64.StdEncoding.EncodeToString(sc.pub[:])})
}

func putRepoSecret(c *rc) reply { return putSecret(c, RepoScope) }
func putEnvSecret(c *rc) reply  { return putSecret(c, c.params["environment"]) }

func putSecret(c *rc, scope string) reply {
	if c.s.secrets.forbidden {
		return secretsForbidden()
	}
	name := c.params["name"]
	if !secretNameRE.MatchString(name) || strings.HasPrefix(strings.ToUpper(name), "GITHUB_") {
		return errReply(http.StatusUnprocessableEntity, "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) or underscores (_).")
	}
	var in struct {
		EncryptedValue *string `json:"encrypted_value"`
		KeyID          *string `json:"key_id"`
	}
	if rep, ok := c.decode(&in); !ok {
		return rep
	}
	if in.EncryptedValue == nil || in.KeyID == nil {
		return missing("encrypted_value", "key_id")
	}
	sc := c.s.secrets.scope(scope)
	if *in.KeyID != sc.keyID {
		return errReply(http.StatusUnprocessableEntity, "Bad request - key_id does not match the public key of this scope")
	}
	sealed, err := base64.StdEncoding.DecodeString(*in.EncryptedValue)
	if err != nil {
		return errReply(http.StatusUnprocessableEntity, "Bad request - encrypted_value is not valid base64")
	}
	plain, ok := box.OpenAnonymous(nil, sealed, sc.pub, sc.priv)
	if !ok {
		return errReply(http.StatusUnprocessableEntity, "Bad request - encrypted_value could not be decrypted with the key named by key_id")
	}
	_, existed := sc.values[name]
	sc.values[name] = string(plain)
	sc.updated[name] = c.now
	c.s.secrets.writes++
	if existed {
		return reply{status: http.StatusNoContent}
	}
	return reply{status: http.StatusCreated, body: []byte("{}")}
}
