package smoke

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/coder/websocket"
)

// failure is one failed network step. detail is already operator-facing; transient
// marks failures worth retrying (the gateway coming up or restarting).
type failure struct {
	detail    string
	transient bool
	// refused is an authentication decision: a connect answered ok:false or closed 1008.
	refused bool
	rpc     *rpcError
}

func (f *failure) outcome(step string) outcome {
	return outcome{detail: step + ": " + f.detail, transient: f.transient}
}

// netFailure explains a transport error. It never quotes a URL (net/http puts the whole
// URL, bootstrap code included, into its errors).
func (s *session) netFailure(err error, timeout string) *failure {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	host := s.base.Host
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invalidErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var closeErr websocket.CloseError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &failure{detail: fmt.Sprintf("no answer within %s (%s): the gateway or a proxy in front of it hangs", s.probeTimeout, timeout), transient: true}
	case errors.Is(err, context.Canceled):
		return &failure{detail: "cancelled"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &failure{detail: fmt.Sprintf("connection refused at %s: nothing listens there (the gateway is not running or still starting)", host), transient: true}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return &failure{detail: fmt.Sprintf("connection to %s was reset or closed mid-request (the gateway is restarting or crashed)", host), transient: true}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &failure{detail: fmt.Sprintf("host %s is unreachable from here", host), transient: true}
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return &failure{detail: fmt.Sprintf("host %s not found in DNS: check the environment's url", s.base.Hostname())}
		}
		return &failure{detail: fmt.Sprintf("DNS lookup of %s failed temporarily", s.base.Hostname()), transient: true}
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &authErr), errors.As(err, &invalidErr):
		return &failure{detail: fmt.Sprintf("the TLS certificate of %s is not valid here (%s): release-action always verifies TLS; fix the certificate or the host name",
			host, s.red.quote(err.Error()))}
	case errors.As(err, &recErr):
		return &failure{detail: fmt.Sprintf("%s does not speak TLS on this port: use the port of the TLS endpoint, or http:// for a loopback gateway", host)}
	case errors.As(err, &closeErr):
		return s.closeFailure(closeErr)
	}
	return &failure{detail: "network error: " + s.red.quote(err.Error())}
}

// closeFailure explains a WebSocket close frame sent by the gateway.
func (s *session) closeFailure(ce websocket.CloseError) *failure {
	reason := s.red.quote(ce.Reason)
	switch ce.Code {
	case websocket.StatusPolicyViolation: // 1008: auth, client id, first frame not connect
		return &failure{refused: true, detail: fmt.Sprintf("the gateway closed the connection with 1008 policy violation, reason %s", reason)}
	case websocket.StatusProtocolError: // 1002
		return &failure{detail: fmt.Sprintf("the gateway speaks another protocol version (closed 1002, reason %s): this probe speaks protocol %d; the deployed gateway is older or newer than release-action supports",
			reason, ProtocolVersion)}
	case websocket.StatusServiceRestart, websocket.StatusGoingAway, websocket.StatusTryAgainLater, websocket.StatusAbnormalClosure:
		return &failure{detail: fmt.Sprintf("the gateway closed the connection (%d %s, reason %s): it is restarting or shutting down", int(ce.Code), ce.Code, reason), transient: true}
	}
	return &failure{detail: fmt.Sprintf("the gateway closed the connection unexpectedly (%d %s, reason %s)", int(ce.Code), ce.Code, reason)}
}

// httpStatusFailure explains an HTTP status the step did not expect; body is the
// already read (bounded) response body, quoted only after cleaning.
func (s *session) httpStatusFailure(step string, status int, body []byte) *failure {
	msg := s.red.quote(errorText(body))
	switch status {
	case 502, 503, 504:
		return &failure{detail: fmt.Sprintf("%s answered HTTP %d %s: a proxy in front of the gateway reports it unavailable (starting, crashed or overloaded)", step, status, msg), transient: true}
	case 401:
		return &failure{detail: fmt.Sprintf("%s answered 401 %s: the configured %s was rejected; the secret does not match gateway.auth.%s of the deployed gateway", step, msg, s.cred.kind, s.cred.kind)}
	}
	return &failure{detail: fmt.Sprintf("%s answered HTTP %d %s", step, status, msg)}
}

// errorText pulls the message out of the gateway's error bodies:
// {"error":{"message","type"}}, {"ok":false,"error":"..."} or plain text.
func errorText(body []byte) string {
	var j struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &j); err == nil {
		switch e := j.Error.(type) {
		case string:
			return e
		case map[string]any:
			for _, k := range []string{"message", "type", "code"} {
				if v, ok := e[k].(string); ok && v != "" {
					return v
				}
			}
		}
		if j.Message != "" {
			return j.Message
		}
		// JSON without a message: quoting it whole would repeat whatever it holds.
		return "(unrecognised JSON error body)"
	}
	t := strings.TrimSpace(string(body))
	if strings.HasPrefix(t, "<") { // an HTML error page says nothing useful in one line
		return "(HTML page)"
	}
	return t
}
