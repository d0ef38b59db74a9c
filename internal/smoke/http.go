package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

const maxBody = 1 << 20 // a control UI shell or an API answer is far smaller

type httpRes struct {
	status int
	header http.Header
	body   []byte
}

// endpoint is the URL of an API path under the gateway base (path prefix kept).
func (s *session) endpoint(path string, q url.Values) *url.URL {
	u := *s.base
	u.Path = s.base.Path + path
	if q != nil {
		u.RawQuery = q.Encode()
	}
	return &u
}

// bearer is the Authorization header for a secret ("" sends none).
func bearer(secret string) http.Header {
	h := http.Header{}
	if secret != "" {
		h.Set("Authorization", "Bearer "+secret)
	}
	return h
}

// do sends one request. body, when not nil, is sent as JSON. step names the request in
// failures ("POST /tools/invoke").
func (s *session) do(ctx context.Context, method string, u *url.URL, hdr http.Header, body any, step string) (*httpRes, *failure) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &failure{detail: step + ": encode request: " + err.Error()}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, &failure{detail: step + ": cannot build the request"}
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "release-action-smoke")
	resp, err := s.httpc.Do(req)
	if err != nil {
		f := s.netFailure(err, step)
		f.detail = step + ": " + f.detail
		return nil, f
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		f := s.netFailure(err, step)
		f.detail = step + ": reading the answer: " + f.detail
		return nil, f
	}
	return &httpRes{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// locationOrigin is the scheme://host/path of a redirect target (no query: it is
// untrusted and could carry anything).
func locationOrigin(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return "(no Location)"
	}
	return (&url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: loc.Path}).String()
}
