package gatewayemu

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected texts below were produced by the real gateway's validators
// (OpenClaw 2026.2.9: Ajv + formatValidationErrors) on the same JSON, with the
// upstream client id renamed.
func TestValidateConnectParams(t *testing.T) {
	const client = `"client":{"id":"agentme-probe","version":"t","platform":"linux","mode":"probe"}`
	const base = `"minProtocol":3,"maxProtocol":3,` + client
	tests := []struct {
		name, params, want string
	}{
		{name: "valid", params: `{` + base + `,"auth":{"token":"x"}}`},
		{name: "valid with every optional field", params: `{` + base + `,"caps":["a"],"commands":["c"],"permissions":{"x":true,"":false},"pathEnv":"","role":"admin","scopes":["s"],` +
			`"device":{"id":"a","publicKey":"b","signature":"c","signedAt":0,"nonce":"n"},"auth":{"token":"","password":""},"locale":"en","userAgent":"u"}`},
		{name: "integral float", params: `{"minProtocol":3.0,"maxProtocol":3e0,` + client + `}`},
		{name: "unknown id", params: `{"minProtocol":3,"maxProtocol":3,"client":{"id":"my-bot","version":"t","platform":"linux","mode":"probe"}}`,
			want: "at /client/id: must be equal to constant; at /client/id: must match a schema in anyOf"},
		{name: "upstream id", params: `{"minProtocol":3,"maxProtocol":3,"client":{"id":"openclaw-probe","version":"t","platform":"linux","mode":"probe"}}`,
			want: "at /client/id: must be equal to constant; at /client/id: must match a schema in anyOf"},
		{name: "numeric id", params: `{"minProtocol":3,"maxProtocol":3,"client":{"id":5,"version":"t","platform":"linux","mode":"probe"}}`,
			want: "at /client/id: must be string; at /client/id: must be equal to constant; at /client/id: must match a schema in anyOf"},
		{name: "unknown mode", params: `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"t","platform":"linux","mode":"operator"}}`,
			want: "at /client/mode: must be equal to constant; at /client/mode: must match a schema in anyOf"},
		{name: "extra root", params: `{` + base + `,"foo":1}`, want: "at root: unexpected property 'foo'"},
		{name: "extras in key order", params: `{"zzz":1,` + base + `,"aaa":2}`, want: "at root: unexpected property 'zzz'; at root: unexpected property 'aaa'"},
		{name: "index-like keys first", params: `{"zzz":1,"2":0,` + base + `,"10":0}`,
			want: "at root: unexpected property '2'; at root: unexpected property '10'; at root: unexpected property 'zzz'"},
		{name: "extra client", params: `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"t","platform":"linux","mode":"cli","foo":1}}`,
			want: "at /client: unexpected property 'foo'"},
		{name: "extra auth", params: `{` + base + `,"auth":{"token":"x","foo":1}}`, want: "at /auth: unexpected property 'foo'"},
		{name: "extra device", params: `{` + base + `,"device":{"id":"a","publicKey":"b","signature":"c","signedAt":1,"nonce":"n","foo":1}}`,
			want: "at /device: unexpected property 'foo'"},
		{name: "escaped pointer", params: `{` + base + `,"permissions":{"a/b~c":1}}`, want: "at /permissions/a~1b~0c: must be boolean"},
		{name: "missing client", params: `{"minProtocol":3,"maxProtocol":3}`, want: "must have required property 'client'"},
		{name: "missing everything", params: `{}`,
			want: "must have required property 'minProtocol'; must have required property 'maxProtocol'; must have required property 'client'"},
		{name: "required before extra", params: `{"aaa":1,"minProtocol":3,` + client + `}`,
			want: "must have required property 'maxProtocol'; at root: unexpected property 'aaa'"},
		{name: "string", params: `"x"`, want: "must be object"},
		{name: "null", params: `null`, want: "must be object"},
		{name: "absent", params: "", want: "must be object"},
		{name: "zero protocol", params: `{"minProtocol":0,"maxProtocol":3,` + client + `}`, want: "at /minProtocol: must be >= 1"},
		{name: "string protocol", params: `{"minProtocol":"3","maxProtocol":3,` + client + `}`, want: "at /minProtocol: must be integer"},
		{name: "fractional protocol", params: `{"minProtocol":3.5,"maxProtocol":3,` + client + `}`, want: "at /minProtocol: must be integer"},
		{name: "negative fraction", params: `{"minProtocol":-1.5,"maxProtocol":3,` + client + `}`,
			want: "at /minProtocol: must be integer; at /minProtocol: must be >= 1"},
		{name: "boolean protocol", params: `{"minProtocol":true,"maxProtocol":3,` + client + `}`, want: "at /minProtocol: must be integer"},
		{name: "empty version", params: `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"","platform":"linux","mode":"cli"}}`,
			want: "at /client/version: must NOT have fewer than 1 characters"},
		{name: "missing version", params: `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","platform":"linux","mode":"cli"}}`,
			want: "at /client: must have required property 'version'"},
		{name: "client not an object", params: `{"minProtocol":3,"maxProtocol":3,"client":"x"}`, want: "at /client: must be object"},
		{name: "numeric token", params: `{` + base + `,"auth":{"token":5}}`, want: "at /auth/token: must be string"},
		{name: "null auth", params: `{` + base + `,"auth":null}`, want: "at /auth: must be object"},
		{name: "null password", params: `{` + base + `,"auth":{"password":null}}`, want: "at /auth/password: must be string"},
		{name: "incomplete device", params: `{` + base + `,"device":{"id":"a"}}`,
			want: "at /device: must have required property 'publicKey'; at /device: must have required property 'signature'; at /device: must have required property 'signedAt'"},
		{name: "empty nonce", params: `{` + base + `,"device":{"id":"a","publicKey":"b","signature":"c","signedAt":1,"nonce":""}}`,
			want: "at /device/nonce: must NOT have fewer than 1 characters"},
		{name: "negative signedAt", params: `{` + base + `,"device":{"id":"a","publicKey":"b","signature":"c","signedAt":-1}}`,
			want: "at /device/signedAt: must be >= 0"},
		{name: "string signedAt", params: `{` + base + `,"device":{"id":"a","publicKey":"b","signature":"c","signedAt":"1"}}`,
			want: "at /device/signedAt: must be integer"},
		{name: "bad scopes", params: `{` + base + `,"scopes":["",5]}`, want: "at /scopes/0: must NOT have fewer than 1 characters; at /scopes/1: must be string"},
		{name: "scopes not an array", params: `{` + base + `,"scopes":"x"}`, want: "at /scopes: must be array"},
		{name: "empty role", params: `{` + base + `,"role":""}`, want: "at /role: must NOT have fewer than 1 characters"},
		{name: "bad permission", params: `{` + base + `,"permissions":{"a":"x"}}`, want: "at /permissions/a: must be boolean"},
		{name: "permissions not an object", params: `{` + base + `,"permissions":[true]}`, want: "at /permissions: must be object"},
		{name: "numeric locale", params: `{` + base + `,"locale":5}`, want: "at /locale: must be string"},
		{name: "errors everywhere", params: `{"minProtocol":3,"maxProtocol":3,"client":{"id":"zz","version":"t","platform":"linux","mode":"probe","baz":1},"foo":1,"bar":2}`,
			want: "at root: unexpected property 'foo'; at root: unexpected property 'bar'; at /client: unexpected property 'baz'; at /client/id: must be equal to constant; at /client/id: must match a schema in anyOf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v *jsonValue
			if tt.params != "" {
				var err error
				v, err = parseJSON([]byte(tt.params))
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, validate(connectParamsSchema, v))
		})
	}
}

func TestValidateRequestFrame(t *testing.T) {
	tests := []struct {
		name, frame, want string
	}{
		{name: "valid", frame: `{"type":"req","id":"1","method":"x","params":{}}`},
		{name: "no params", frame: `{"type":"req","id":"1","method":"x"}`},
		{name: "null params", frame: `{"type":"req","id":"1","method":"x","params":null}`},
		{name: "extra", frame: `{"type":"req","id":"1","method":"x","params":{},"foo":1}`, want: "at root: unexpected property 'foo'"},
		{name: "numeric id", frame: `{"type":"req","id":1,"method":"x"}`, want: "at /id: must be string"},
		{name: "empty id", frame: `{"type":"req","id":"","method":"x"}`, want: "at /id: must NOT have fewer than 1 characters"},
		{name: "no id", frame: `{"type":"req","method":"x"}`, want: "must have required property 'id'"},
		{name: "no method", frame: `{"type":"req","id":"1"}`, want: "must have required property 'method'"},
		{name: "empty method", frame: `{"type":"req","id":"1","method":""}`, want: "at /method: must NOT have fewer than 1 characters"},
		{name: "numeric method", frame: `{"type":"req","id":"1","method":1}`, want: "at /method: must be string"},
		{name: "other type", frame: `{"type":"bogus","id":"x1"}`, want: "must have required property 'method'; at /type: must be equal to constant"},
		{name: "numeric type", frame: `{"type":5,"id":"1","method":"x"}`, want: "at /type: must be string; at /type: must be equal to constant"},
		{name: "an event", frame: `{"type":"event","event":"x"}`,
			want: "must have required property 'id'; must have required property 'method'; at root: unexpected property 'event'; at /type: must be equal to constant"},
		{name: "array", frame: `[1,2]`, want: "must be object"},
		{name: "number", frame: `5`, want: "must be object"},
		{name: "empty object", frame: `{}`,
			want: "must have required property 'type'; must have required property 'id'; must have required property 'method'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseJSON([]byte(tt.frame))
			require.NoError(t, err)
			assert.Equal(t, tt.want, validate(requestFrameSchema, v))
		})
	}
}

func TestParseJSON(t *testing.T) {
	for _, bad := range []string{"", "hello", "{", `{"a":1}x`, `{} {}`, `{"a" 1}`, strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2)} {
		_, err := parseJSON([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
	v, err := parseJSON([]byte(` {"b":1,"a":{"y":[1,"x",null,true]},"b":2} `))
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a"}, v.keys, "a repeated key keeps its first place")
	assert.Equal(t, "2", v.obj["b"].num, "and its last value")
	assert.Equal(t, []jsonKind{jsonNumber, jsonString, jsonNull, jsonBool}, []jsonKind{
		v.obj["a"].obj["y"].arr[0].kind, v.obj["a"].obj["y"].arr[1].kind, v.obj["a"].obj["y"].arr[2].kind, v.obj["a"].obj["y"].arr[3].kind,
	})
}

func TestTruncateCloseReason(t *testing.T) {
	assert.Equal(t, "short", truncateCloseReason("short"))
	assert.Equal(t, strings.Repeat("a", 120), truncateCloseReason(strings.Repeat("a", 130)))
	cut := truncateCloseReason(strings.Repeat("a", 119) + "é and more")
	assert.Equal(t, strings.Repeat("a", 119), cut, "no half character")
}

// FuzzParseJSON: parseJSON accepts exactly the JSON texts encoding/json accepts
// (within the depth bound) and validation never panics.
func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{
		`{"type":"req","id":"1","method":"connect","params":{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"x","mode":"cli"}}}`,
		`{"a":[1,2,{"b":null}],"1":true}`, `"x"`, `[`, `{"a":1}{}`, `1e400`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSON(data)
		if err == errJSONTooDeep {
			return
		}
		if (err == nil) != json.Valid(data) {
			t.Fatalf("parseJSON error %v, json.Valid %v for %q", err, json.Valid(data), data)
		}
		if err != nil {
			return
		}
		_ = validate(requestFrameSchema, v)
		if v.kind == jsonObject {
			_ = validate(connectParamsSchema, v.obj["params"])
		}
		_ = validate(connectParamsSchema, v)
	})
}
