package gatewayemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// run is one chat.send or agent run, remembered by idempotency key.
type run struct {
	id         string
	sessionKey string
	done       bool // the final event went out
}

// session is a transcript. It survives Restart: the gateway keeps it on disk.
type session struct {
	id        string
	messages  []map[string]any
	updatedAt int64
}

// canonicalSessionKey maps "<key>" to "agent:main:<key>", as the gateway does for
// the default agent; a key that already names an agent is kept.
func canonicalSessionKey(k string) string {
	k = strings.TrimSpace(k)
	if strings.HasPrefix(k, "agent:") {
		return k
	}
	return "agent:main:" + k
}

func textMessage(role, text string, ts int64) map[string]any {
	return map[string]any{
		"role":      role,
		"content":   []map[string]any{{"type": "text", "text": text}},
		"timestamp": ts,
	}
}

// replyText is the emulated model's answer: it quotes the user's message whole, so a
// probe can find the marker it sent.
func replyText(message string) string { return "Agent Me emulator reply: " + message }

// dispatch answers one request on a connected socket.
func (s *Server) dispatch(c *wsConn, f reqFrame) {
	params := f.Params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	switch f.Method {
	case "health":
		s.mu.Lock()
		h := s.healthLocked()
		s.mu.Unlock()
		c.respond(f.ID, h, nil)
	case "status":
		c.respond(f.ID, s.status(), nil)
	case "channels.status":
		c.respond(f.ID, map[string]any{
			"ts":           s.nowMs(),
			"channelOrder": s.opts.Channels,
			"channels":     s.channelsStatus(),
		}, nil)
	case "send":
		payload, rerr := s.send(params)
		c.respond(f.ID, payload, rerr)
	case "chat.send":
		s.chatSend(c, f.ID, params)
	case "chat.history":
		payload, rerr := s.chatHistory(params)
		c.respond(f.ID, payload, rerr)
	case "agent":
		s.agent(c, f.ID, params)
	case "wake":
		var p struct {
			Mode string `json:"mode"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(params, &p); err != nil || strings.TrimSpace(p.Text) == "" {
			c.respond(f.ID, nil, invalidRequest("invalid wake params: must have required property 'text'"))
			return
		}
		c.respond(f.ID, map[string]any{"ok": true}, nil)
	default:
		c.respond(f.ID, nil, invalidRequest("unknown method: %s", f.Method))
	}
}

func (s *Server) channelsStatus() map[string]any {
	out := map[string]any{}
	for _, ch := range s.opts.Channels {
		out[ch] = map[string]any{"configured": true, "running": true, "connected": true, "lastError": nil}
	}
	return out
}

func (s *Server) healthLocked() map[string]any {
	return map[string]any{
		"ok":             true,
		"ts":             s.clock.Now().UnixMilli(),
		"durationMs":     0,
		"channels":       s.channelsStatus(),
		"channelOrder":   s.opts.Channels,
		"defaultAgentId": "main",
		"agents":         []map[string]any{{"agentId": "main", "isDefault": true}},
		"sessions":       map[string]any{"count": len(s.history)},
	}
}

func (s *Server) status() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{
		"version":  s.opts.Version,
		"uptimeMs": s.uptimeLocked().Milliseconds(),
		"sessions": map[string]any{"count": len(s.history)},
		"channels": s.channelsStatus(),
	}
}

func (s *Server) sessionList() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.history))
	for k := range s.history {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		ss := s.history[k]
		out = append(out, map[string]any{
			"key": k, "kind": "direct", "sessionId": ss.id,
			"updatedAt": ss.updatedAt, "messages": len(ss.messages),
		})
	}
	return out
}

// appendLocked records a message in a session's transcript.
func (s *Server) appendLocked(key string, msg map[string]any) {
	ss := s.history[key]
	if ss == nil {
		ss = &session{id: randomID()}
		s.history[key] = ss
	}
	ss.messages = append(ss.messages, msg)
	ss.updatedAt = s.clock.Now().UnixMilli()
}

type sendParams struct {
	To             string `json:"to"`
	Message        string `json:"message"`
	Channel        string `json:"channel"`
	AccountID      string `json:"accountId"`
	IdempotencyKey string `json:"idempotencyKey"`
}

func (s *Server) send(raw json.RawMessage) (any, *rpcError) {
	var p sendParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, invalidRequest("invalid send params: %s", jsonProblem(err))
	}
	for _, req := range []struct{ name, v string }{{"to", p.To}, {"message", p.Message}, {"idempotencyKey", p.IdempotencyKey}} {
		if strings.TrimSpace(req.v) == "" {
			return nil, invalidRequest("invalid send params: must have required property '%s'", req.name)
		}
	}
	channel := strings.ToLower(strings.TrimSpace(p.Channel))
	if channel == "" {
		channel = s.opts.Channels[0]
	}
	if !contains(s.opts.Channels, channel) {
		return nil, &rpcError{Code: "INVALID_REQUEST", Message: fmt.Sprintf("unsupported channel: %s (configured: %s)", channel, strings.Join(s.opts.Channels, ", "))}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cached, ok := s.sends[p.IdempotencyKey]; ok {
		return cached, nil
	}
	s.nextMsg++
	payload := map[string]any{
		"runId":     p.IdempotencyKey,
		"messageId": fmt.Sprintf("emu-msg-%d", s.nextMsg),
		"channel":   channel,
	}
	if p.AccountID != "" {
		payload["accountId"] = p.AccountID
	}
	s.sends[p.IdempotencyKey] = payload
	s.stats.Sends++
	return payload, nil
}

// jsonProblem names a JSON decoding problem without echoing the request.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("at /%s: must be %s", te.Field, te.Type)
	}
	return "params must be an object"
}

type chatSendParams struct {
	SessionKey     string `json:"sessionKey"`
	Message        string `json:"message"`
	IdempotencyKey string `json:"idempotencyKey"`
}

// startRun registers a run, or reports the run an idempotency key already names.
// The user's message enters the transcript only when a model will answer it.
func (s *Server) startRun(key, idem, message string) (r *run, repeat bool, noModel bool, life context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.runs[idem]; ok {
		return r, true, false, nil
	}
	r = &run{id: idem, sessionKey: key}
	s.runs[idem] = r
	if !s.f.noModel {
		s.appendLocked(key, textMessage("user", message, s.clock.Now().UnixMilli()))
	}
	return r, false, s.f.noModel, s.life
}

func runStatus(s *Server, r *run) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.done {
		return "ok"
	}
	return "in_flight"
}

func (s *Server) chatSend(c *wsConn, id json.RawMessage, raw json.RawMessage) {
	var p chatSendParams
	if err := json.Unmarshal(raw, &p); err != nil {
		c.respond(id, nil, invalidRequest("invalid chat.send params: %s", jsonProblem(err)))
		return
	}
	for _, req := range []struct{ name, v string }{{"sessionKey", p.SessionKey}, {"message", p.Message}, {"idempotencyKey", p.IdempotencyKey}} {
		if strings.TrimSpace(req.v) == "" {
			c.respond(id, nil, invalidRequest("invalid chat.send params: must have required property '%s'", req.name))
			return
		}
	}
	started := s.clock.Now()
	r, repeat, noModel, life := s.startRun(canonicalSessionKey(p.SessionKey), p.IdempotencyKey, p.Message)
	if repeat {
		c.respond(id, map[string]any{"runId": r.id, "status": runStatus(s, r)}, nil)
		return
	}
	s.count(func(st *Stats) { st.ChatSends++ })
	s.metrics.chatSends.Inc()
	c.respond(id, map[string]any{"runId": r.id, "status": "started"}, nil)
	if noModel {
		return // no provider: the run never ends, which is what a probe has to notice
	}
	s.track(func() { s.stream(life, r, p.Message, started, nil) })
}

func (s *Server) agent(c *wsConn, id json.RawMessage, raw json.RawMessage) {
	var p struct {
		Message        string `json:"message"`
		SessionKey     string `json:"sessionKey"`
		IdempotencyKey string `json:"idempotencyKey"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		c.respond(id, nil, invalidRequest("invalid agent params: %s", jsonProblem(err)))
		return
	}
	for _, req := range []struct{ name, v string }{{"message", p.Message}, {"idempotencyKey", p.IdempotencyKey}} {
		if strings.TrimSpace(req.v) == "" {
			c.respond(id, nil, invalidRequest("invalid agent params: must have required property '%s'", req.name))
			return
		}
	}
	if p.SessionKey == "" {
		p.SessionKey = "main"
	}
	started := s.clock.Now()
	r, repeat, noModel, life := s.startRun(canonicalSessionKey(p.SessionKey), p.IdempotencyKey, p.Message)
	if repeat {
		c.respond(id, map[string]any{"runId": r.id, "status": runStatus(s, r)}, nil)
		return
	}
	c.respond(id, map[string]any{"runId": r.id, "status": "accepted", "acceptedAt": started.UnixMilli()}, nil)
	if noModel {
		return
	}
	// The agent method answers twice on the same id: "accepted" now, the result at the end.
	s.track(func() {
		s.stream(life, r, p.Message, started, func(reply string) {
			c.respond(id, map[string]any{
				"runId": r.id, "status": "ok", "summary": "completed",
				"result": map[string]any{"payloads": []map[string]any{{"text": reply}}},
			}, nil)
		})
	})
}

// stream plays a run's reply as agent and chat events, then the final. A Restart
// (life ends) kills it before the final, as a process restart would.
func (s *Server) stream(life context.Context, r *run, message string, started time.Time, onFinal func(string)) {
	reply := replyText(message)
	s.broadcast("agent", map[string]any{"runId": r.id, "stream": "lifecycle", "ts": s.nowMs(),
		"data": map[string]any{"phase": "start", "startedAt": started.UnixMilli()}})
	s.broadcast("agent", map[string]any{"runId": r.id, "stream": "assistant", "ts": s.nowMs(),
		"data": map[string]any{"text": reply, "delta": reply}})
	s.broadcast("chat", map[string]any{"runId": r.id, "sessionKey": r.sessionKey, "state": "delta",
		"message": textMessage("assistant", reply, s.nowMs())})

	if d := s.faults().deliveryLatency; d > 0 {
		if err := s.clock.Sleep(life, d); err != nil {
			return
		}
	}
	final := textMessage("assistant", reply, s.nowMs())
	s.mu.Lock()
	if life.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.appendLocked(r.sessionKey, final)
	r.done = true
	s.stats.ChatFinals++
	s.mu.Unlock()
	s.metrics.latency.Observe(max(s.clock.Now().Sub(started), 0).Seconds())

	s.broadcast("chat", map[string]any{"runId": r.id, "sessionKey": r.sessionKey, "state": "final", "message": final})
	s.broadcast("agent", map[string]any{"runId": r.id, "stream": "lifecycle", "ts": s.nowMs(),
		"data": map[string]any{"phase": "end", "endedAt": s.nowMs()}})
	if onFinal != nil {
		onFinal(reply)
	}
}

func (s *Server) chatHistory(raw json.RawMessage) (any, *rpcError) {
	var p struct {
		SessionKey string `json:"sessionKey"`
		Limit      int    `json:"limit"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, invalidRequest("invalid chat.history params: %s", jsonProblem(err))
	}
	if strings.TrimSpace(p.SessionKey) == "" {
		return nil, invalidRequest("invalid chat.history params: must have required property 'sessionKey'")
	}
	key := canonicalSessionKey(p.SessionKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := []map[string]any{}
	sessionID := ""
	if ss := s.history[key]; ss != nil {
		msgs = append(msgs, ss.messages...)
		sessionID = ss.id
	}
	if p.Limit > 0 && len(msgs) > p.Limit {
		msgs = msgs[len(msgs)-p.Limit:]
	}
	return map[string]any{"sessionKey": key, "sessionId": sessionID, "messages": msgs}, nil
}
