package gatewayemu

import (
	"bytes"
	"html/template"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// indexTemplate is the html/template the page was rendered with; indexPage must escape
// every base path exactly as it did.
var indexTemplate = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agent Me Control</title>
<script>window.__AGENTME_CONTROL_UI_BASE_PATH__ = {{.BasePath}};</script>
<script type="module" crossorigin src="{{.BasePath}}assets/index.js"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`))

func templatePage(t testing.TB, base string) string {
	var buf bytes.Buffer
	require.NoError(t, indexTemplate.Execute(&buf, struct{ BasePath string }{base}))
	return buf.String()
}

func TestIndexPageMatchesTemplate(t *testing.T) {
	for _, base := range []string{"/", "/ui/", "/a b/", `/x"y/`, "/<s>/", "/é&q=1/", "/a'b/", "/%41/", "/(x)/", "/\u2028/", "/\x00\x7f/", "/</script>/"} {
		assert.Equal(t, templatePage(t, base), string(indexPage(base)), "%q", base)
	}
}

func FuzzIndexPage(f *testing.F) {
	f.Add("/ui/")
	f.Add("/a&b'c\"<>/")
	f.Fuzz(func(t *testing.T, base string) {
		base = normalizeBasePath(base)
		require.Equal(t, templatePage(t, base), string(indexPage(base)))
	})
}
