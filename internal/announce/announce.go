// Package announce posts a status message to webhooks (runbook 3.5: "Announce rollback
// status and incident summary"): Slack-compatible incoming webhooks ({"text": ...}) and
// plain JSON receivers (the command's report). The rollback uses it, and so can any
// command that announces (the incident command).
//
// A webhook URL is a secret: it carries its own credential (Slack's path is the token).
// The package never prints it and keeps it out of every error and Delivery; callers read
// it from the environment variable the configuration names and register it with the
// redactor before anything is printed (Resolve returns the values to register).
//
// Announcing is best effort: a webhook that fails is a Delivery with an Error (the caller
// turns it into a warning), never a failed command.
package announce

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Format is how a webhook wants the message.
type Format string

// The formats.
const (
	// FormatSlack posts {"text": Message.Text} (Slack, Mattermost, Rocket.Chat, Google
	// Chat and most chat tools accept it).
	FormatSlack Format = "slack"
	// FormatJSON posts Message.Report as JSON.
	FormatJSON Format = "json"
)

// Formats lists the known formats.
func Formats() []Format { return []Format{FormatSlack, FormatJSON} }

// DefaultTimeout bounds one delivery.
const DefaultTimeout = 10 * time.Second

// Webhook is one configured receiver.
type Webhook struct {
	// Name identifies it in deliveries and warnings: the environment variable that holds
	// the URL (never the URL).
	Name   string
	URL    string
	Format Format
}

// Config is one webhook as the configuration declares it: the environment variable that
// holds its URL, and its format.
type Config struct {
	Env    string
	Format string
}

// Message is what is announced.
type Message struct {
	// Text is the human summary (a few lines; Slack renders *bold* and <url|label> links).
	Text string
	// Report is marshalled as the body of FormatJSON webhooks.
	Report any
}

// Delivery is the outcome of one webhook.
type Delivery struct {
	Webhook string `json:"webhook"` // Webhook.Name
	Format  Format `json:"format"`
	OK      bool   `json:"ok"`
	Status  int    `json:"status,omitempty"` // the receiver's HTTP status
	Error   string `json:"error,omitempty"`  // why it failed; never holds the URL
}

// Resolve turns configured webhooks into Webhooks with getenv (the caller's environment).
// A webhook whose variable is unset or empty, or whose URL is not http(s), is left out with
// a warning (the variable is named, the value never). secrets are the URLs to register with
// the redactor.
func Resolve(cfg []Config, getenv func(string) string) (hooks []Webhook, secrets, warnings []string) {
	for _, c := range cfg {
		raw := strings.TrimSpace(getenv(c.Env))
		if raw == "" {
			warnings = append(warnings, fmt.Sprintf("webhook %s: the environment variable is not set; pass the webhook URL from a secret in the step's env (env: %s: ${{ secrets.%s }})", c.Env, c.Env, c.Env))
			continue
		}
		secrets = append(secrets, raw)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			warnings = append(warnings, fmt.Sprintf("webhook %s: the value is not an http(s) URL; set it to the webhook's URL", c.Env))
			continue
		}
		f := Format(strings.ToLower(strings.TrimSpace(c.Format)))
		if f == "" {
			f = FormatSlack
		}
		hooks = append(hooks, Webhook{Name: c.Env, URL: raw, Format: f})
	}
	return hooks, secrets, warnings
}

// Send posts msg to every webhook, one after the other, and says how each went. client nil
// means a client with DefaultTimeout (TLS verified, as always).
func Send(ctx context.Context, client *http.Client, hooks []Webhook, msg Message) []Delivery {
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	out := make([]Delivery, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, send(ctx, client, h, msg))
	}
	return out
}

func send(ctx context.Context, client *http.Client, h Webhook, msg Message) Delivery {
	d := Delivery{Webhook: h.Name, Format: h.Format}
	fail := func(format string, args ...any) Delivery {
		d.Error = scrub(fmt.Sprintf(format, args...), h.URL)
		return d
	}
	var body []byte
	var err error
	switch h.Format {
	case FormatSlack:
		body, err = json.Marshal(map[string]string{"text": msg.Text})
	case FormatJSON:
		body, err = json.Marshal(msg.Report)
	default:
		return fail("unknown format %q: use %q or %q", h.Format, FormatSlack, FormatJSON)
	}
	if err != nil {
		return fail("encode the message: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(client.Timeout, DefaultTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fail("build the request: %v", unwrapURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "release-action")
	// Redirects would carry the body elsewhere; a webhook answers where it is.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return fail("post: %v", unwrapURL(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	d.Status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		text := strings.Join(strings.Fields(string(snippet)), " ")
		if text != "" {
			text = ": " + text
		}
		return fail("the receiver answered %d %s%s", resp.StatusCode, http.StatusText(resp.StatusCode), text)
	}
	d.OK = true
	return d
}

// unwrapURL drops net/http's *url.Error wrapper, whose text holds the URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// scrub removes the URL, its path and its query from text (an error from deep in the
// transport, or a receiver echoing its address, may still hold them).
func scrub(text, raw string) string {
	pieces := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		if u.RawQuery != "" {
			pieces = append(pieces, u.RawQuery)
		}
		if len(u.Path) > 1 {
			pieces = append(pieces, u.Path, strings.TrimPrefix(u.Path, "/"))
		}
		if u.User != nil {
			pieces = append(pieces, u.User.String())
		}
	}
	for _, p := range pieces {
		if len(p) >= 4 {
			text = strings.ReplaceAll(text, p, "[webhook URL]")
		}
	}
	return text
}
