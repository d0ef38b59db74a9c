package gatewayemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// The exchange endpoint's error strings, verbatim from the gateway.
var (
	errCodeFormat    = errors.New("invalid bootstrap code format")
	errCodeSignature = errors.New("invalid bootstrap code signature")
	errCodePayload   = errors.New("invalid bootstrap code payload")
	errCodeExpired   = errors.New("bootstrap code expired")
	errCodeUsed      = errors.New("bootstrap code already used")
)

// codePayload is the signed part of a bootstrap code. Exp is in Unix milliseconds.
type codePayload struct {
	Nonce string `json:"nonce"`
	Exp   int64  `json:"exp"`
}

var b64 = base64.RawURLEncoding

// signCode builds base64url(JSON{nonce,exp}) + "." + base64url(HMAC-SHA256(key, P)),
// where P is the base64url payload segment exactly as it appears in the code: the
// verifier then checks the bytes it received and never re-encodes JSON.
func signCode(key []byte, p codePayload) (string, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	seg := b64.EncodeToString(raw)
	return seg + "." + b64.EncodeToString(mac(key, seg)), nil
}

func mac(key []byte, seg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(seg))
	return h.Sum(nil)
}

// verifyCode checks a code's shape and signature and decodes its payload. Expiry and
// single use are the caller's business (they need the clock and the nonce store).
func verifyCode(key []byte, code string) (codePayload, error) {
	seg, sigSeg, ok := strings.Cut(strings.TrimSpace(code), ".")
	if !ok || seg == "" || sigSeg == "" || strings.Contains(sigSeg, ".") {
		return codePayload{}, errCodeFormat
	}
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return codePayload{}, errCodeFormat
	}
	sig, err := b64.DecodeString(sigSeg)
	if err != nil {
		return codePayload{}, errCodeFormat
	}
	if !hmac.Equal(sig, mac(key, seg)) {
		return codePayload{}, errCodeSignature
	}
	var p struct {
		Nonce *string `json:"nonce"`
		Exp   *int64  `json:"exp"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&p); err != nil || dec.More() || p.Nonce == nil || *p.Nonce == "" || p.Exp == nil {
		return codePayload{}, errCodePayload
	}
	return codePayload{Nonce: *p.Nonce, Exp: *p.Exp}, nil
}
