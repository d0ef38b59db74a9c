package github

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	gh "github.com/google/go-github/v89/github"
	"golang.org/x/crypto/nacl/box"
)

// SecretsKey is the public key GitHub encrypts Actions secrets of one scope with (a
// curve25519 key for libsodium sealed boxes), and its id, which a write must name.
type SecretsKey struct {
	KeyID string
	Key   [32]byte
}

// secretName is GitHub's rule for secret names: letters, digits and underscores, not
// starting with a digit; the GITHUB_ prefix is reserved.
var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidSecretName reports whether GitHub accepts name as an Actions secret name.
func ValidSecretName(name string) bool {
	return secretName.MatchString(name) && !strings.HasPrefix(strings.ToUpper(name), "GITHUB_")
}

// scopeText names a secrets scope in messages: "environment production" or "repository o/r".
func (c *Client) scopeText(environment string) string {
	if environment == "" {
		return "repository " + c.repo.String()
	}
	return fmt.Sprintf("environment %q of %s", environment, c.repo)
}

// SecretsPublicKey reads the public key of the repository's Actions secrets, or of one
// environment's secrets when environment is not empty
// (GET /repos/{owner}/{repo}[/environments/{environment}]/actions|secrets/public-key).
func (c *Client) SecretsPublicKey(ctx context.Context, environment string) (SecretsKey, error) {
	owner, repo := c.ownerName()
	var (
		pk  *gh.PublicKey
		err error
	)
	if environment == "" {
		pk, _, err = c.rest.Actions.GetRepoPublicKey(ctx, owner, repo)
	} else {
		pk, _, err = c.rest.Actions.GetEnvPublicKey(ctx, owner, repo, url.PathEscape(environment))
	}
	if err != nil {
		return SecretsKey{}, fmt.Errorf("read the secrets public key of %s: %w", c.scopeText(environment), c.convertErr(err))
	}
	if pk == nil || pk.GetKeyID() == "" || pk.GetKey() == "" {
		return SecretsKey{}, fmt.Errorf("read the secrets public key of %s: %w", c.scopeText(environment), errNoBody)
	}
	raw, err := base64.StdEncoding.DecodeString(pk.GetKey())
	if err != nil || len(raw) != 32 {
		return SecretsKey{}, fmt.Errorf("read the secrets public key of %s: the key is not 32 bytes of base64 (key_id %s)",
			c.scopeText(environment), pk.GetKeyID())
	}
	k := SecretsKey{KeyID: pk.GetKeyID()}
	copy(k.Key[:], raw)
	return k, nil
}

// SealSecret encrypts value for key as GitHub wants it: base64 of a libsodium sealed
// box (crypto_box_seal), which only the holder of the private key can open.
func SealSecret(key SecretsKey, value []byte) (string, error) {
	sealed, err := box.SealAnonymous(nil, value, &key.Key, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("seal a secret for key %s: %w", key.KeyID, err)
	}
	return base64.StdEncoding.EncodeToString(sealed), nil
}

// PutSecret seals value for key and creates or updates the Actions secret name of the
// repository, or of environment when it is not empty
// (PUT .../secrets/{name} with encrypted_value and key_id). created is true for a new
// secret (201), false for an update (204). The value is never sent in the clear and
// never appears in an error. A 403 matches ErrForbidden: the token may not write
// secrets (GITHUB_TOKEN never may).
func (c *Client) PutSecret(ctx context.Context, environment, name string, key SecretsKey, value []byte) (created bool, err error) {
	if !ValidSecretName(name) {
		return false, fmt.Errorf("write secret %q of %s: not a valid secret name (letters, digits and _, not starting with a digit or GITHUB_)",
			name, c.scopeText(environment))
	}
	if key.KeyID == "" {
		return false, fmt.Errorf("write secret %s of %s: no public key id", name, c.scopeText(environment))
	}
	enc, err := SealSecret(key, value)
	if err != nil {
		return false, fmt.Errorf("write secret %s of %s: %w", name, c.scopeText(environment), err)
	}
	owner, repo := c.ownerName()
	body := gh.SecretRequest{KeyID: key.KeyID, EncryptedValue: enc}
	var resp *gh.Response
	if environment == "" {
		resp, err = c.rest.Actions.CreateOrUpdateRepoSecret(ctx, owner, repo, name, body)
	} else {
		resp, err = c.rest.Actions.CreateOrUpdateEnvSecret(ctx, owner, repo, url.PathEscape(environment), name, body)
	}
	if err != nil {
		return false, fmt.Errorf("write secret %s of %s: %w", name, c.scopeText(environment), c.convertErr(err))
	}
	return resp != nil && resp.StatusCode == 201, nil
}
