package gatewayemu

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

const testToken = "tok-3f1c9a"

// start runs an emulator for one test (token mode with testToken unless o says otherwise).
func start(t *testing.T, o Options) (*Server, string) {
	t.Helper()
	if o.Token == "" && o.Password == "" {
		o.Token = testToken
	}
	s := New(o)
	url := s.Start()
	t.Cleanup(s.Close)
	return s, url
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type frame map[string]any

func (f frame) str(path ...string) string {
	v := f.get(path...)
	s, _ := v.(string)
	return s
}

func (f frame) get(path ...string) any {
	var cur any = map[string]any(f)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// client is a plain coder/websocket client speaking the gateway protocol by hand.
type client struct {
	t    *testing.T
	c    *websocket.Conn
	next atomic.Int64
}

func dial(t *testing.T, s *Server, header http.Header) *client {
	t.Helper()
	return dialHost(t, s, header, "")
}

// dialHost dials with a Host header of host ("" keeps the URL's): a loopback client
// that names another host is not local to the gateway.
func dialHost(t *testing.T, s *Server, header http.Header, host string) *client {
	t.Helper()
	c, resp, err := websocket.Dial(ctxT(t), s.WSURL(), &websocket.DialOptions{HTTPHeader: header, HTTPClient: s.HTTPClient(), Host: host})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	require.NoError(t, err)
	t.Cleanup(func() { c.CloseNow() })
	return &client{t: t, c: c}
}

func (c *client) read() frame {
	c.t.Helper()
	_, b, err := c.c.Read(ctxT(c.t))
	require.NoError(c.t, err)
	var f frame
	require.NoError(c.t, json.Unmarshal(b, &f), "frame %s", b)
	return f
}

// readUntil skips frames (ticks, other runs' events) until match accepts one.
func (c *client) readUntil(match func(frame) bool) frame {
	c.t.Helper()
	for {
		f := c.read()
		if match(f) {
			return f
		}
	}
}

func (c *client) sendRaw(v any) {
	c.t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		b, err = json.Marshal(v)
		require.NoError(c.t, err)
	}
	require.NoError(c.t, c.c.Write(ctxT(c.t), websocket.MessageText, b))
}

// request sends a req frame and returns its id.
func (c *client) request(method string, params any) string {
	id := fmt.Sprintf("r%d", c.next.Add(1))
	c.sendRaw(map[string]any{"type": "req", "id": id, "method": method, "params": params})
	return id
}

func (c *client) response(id string) frame {
	c.t.Helper()
	return c.readUntil(func(f frame) bool { return f["type"] == "res" && f["id"] == id })
}

func (c *client) call(method string, params any) frame {
	c.t.Helper()
	return c.response(c.request(method, params))
}

// closed reads until the server closes and returns the close code and reason.
func (c *client) closed() (websocket.StatusCode, string) {
	c.t.Helper()
	ctx := ctxT(c.t)
	for {
		_, _, err := c.c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		c.t.Fatalf("connection ended without a close frame: %v", err)
	}
}

func probeConnect(auth map[string]any) map[string]any {
	return clientParams(ProbeClientID, "probe", auth)
}

// challenge reads the connect.challenge event and returns its nonce.
func (c *client) challenge() string {
	c.t.Helper()
	f := c.read()
	require.Equal(c.t, "connect.challenge", f["event"])
	nonce := f.str("payload", "nonce")
	require.NotEmpty(c.t, nonce)
	return nonce
}

// testDevice is a device identity: an ed25519 key pair and its id.
type testDevice struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	id   string
}

// newDevice derives a device from a name, so a test can reconnect as the same device.
func newDevice(name string) testDevice {
	seed := sha256.Sum256([]byte("gatewayemu-test-device:" + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	pub := priv.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	return testDevice{pub: pub, priv: priv, id: hex.EncodeToString(sum[:])}
}

// signed is the connect params.device for p (client, role, scopes and auth.token
// taken from p as the gateway takes them), signed at signedAt over nonce.
func (d testDevice) signed(p map[string]any, signedAt time.Time, nonce string) map[string]any {
	cl := p["client"].(map[string]any)
	role, _ := p["role"].(string)
	if role == "" {
		role = "operator"
	}
	var scopes []string
	if sc, ok := p["scopes"].([]string); ok {
		scopes = sc
	}
	token := ""
	if a, ok := p["auth"].(map[string]any); ok {
		token, _ = a["token"].(string)
	}
	payload := DeviceAuthPayload(d.id, cl["id"].(string), cl["mode"].(string), role, scopes, signedAt.UnixMilli(), token, nonce)
	dev := map[string]any{
		"id":        d.id,
		"publicKey": base64.RawURLEncoding.EncodeToString(d.pub),
		"signature": base64.RawURLEncoding.EncodeToString(ed25519.Sign(d.priv, []byte(payload))),
		"signedAt":  signedAt.UnixMilli(),
	}
	if nonce != "" {
		dev["nonce"] = nonce
	}
	return dev
}

func clientParams(id, mode string, auth map[string]any) map[string]any {
	p := map[string]any{
		"minProtocol": 3, "maxProtocol": 3,
		"client": map[string]any{"id": id, "version": "1.0.0", "platform": "linux", "mode": mode},
	}
	if auth != nil {
		p["auth"] = auth
	}
	return p
}

// connect dials and completes the handshake with the test token; it returns the
// hello-ok payload.
func connect(t *testing.T, s *Server) (*client, frame) {
	t.Helper()
	c := dial(t, s, nil)
	require.Equal(t, "connect.challenge", c.read()["event"])
	res := c.call("connect", probeConnect(map[string]any{"token": testToken}))
	require.Equal(t, true, res["ok"], "connect refused: %v", res["error"])
	return c, frame(res["payload"].(map[string]any))
}

type httpResult struct {
	status int
	header http.Header
	body   string
}

func (r httpResult) json(t *testing.T) frame {
	t.Helper()
	var f frame
	require.NoError(t, json.Unmarshal([]byte(r.body), &f), "body %q", r.body)
	return f
}

func do(t *testing.T, s *Server, method, path, body string, header map[string]string) httpResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctxT(t), method, s.URL()+path, rd)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return httpResult{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// dialRaw attempts a WebSocket handshake and returns the HTTP answer on failure.
func dialRaw(t *testing.T, s *Server) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	c, resp, err := websocket.Dial(ctxT(t), s.WSURL(), &websocket.DialOptions{HTTPClient: s.HTTPClient()})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if c != nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	return httptest.NewRequestWithContext(ctxT(t), method, target, nil)
}
