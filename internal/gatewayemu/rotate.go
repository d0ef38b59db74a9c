package gatewayemu

import "errors"

// Credentials are what a gateway process reads at start: its auth-mode credential and
// AGENTME_BOOTSTRAP_SECRET.
type Credentials struct {
	// Credential is the new token or password, of the auth mode the server was created
	// with (a rotation changes the value, not the mode).
	Credential string
	// BootstrapSecret is AGENTME_BOOTSTRAP_SECRET; empty means the signing key is
	// "agentme-bootstrap:" + Credential, so outstanding codes die with the old credential.
	BootstrapSecret string
}

// RestartWith is Restart with new credentials, as a redeploy that reads rotated
// secrets: from then on only Credential authenticates, and bootstrap codes are signed
// and verified with the new key (codes signed with the old key answer "invalid bootstrap
// code signature", unless the dedicated secret stayed the same). Used nonces are
// forgotten as on every restart. Paired devices survive (they are on disk).
func (s *Server) RestartWith(c Credentials) error {
	if c.Credential == "" {
		return errors.New("gatewayemu: RestartWith needs a credential (the gateway refuses to start without one)")
	}
	s.mu.Lock()
	s.cred = c.Credential
	if c.BootstrapSecret != "" {
		s.key = []byte(c.BootstrapSecret)
	} else {
		s.key = []byte("agentme-bootstrap:" + c.Credential)
	}
	s.mu.Unlock()
	s.Restart()
	return nil
}

// credential is the configured token or password, read under the lock because
// RestartWith changes it.
func (s *Server) credential() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cred
}

// bootstrapKey is the HMAC key of bootstrap codes.
func (s *Server) bootstrapKey() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}
