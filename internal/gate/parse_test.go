package gate

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStripANSI(t *testing.T) {
	cases := map[string]string{
		"\x1b[32m✓\x1b[39m src/a.test.ts":       "✓ src/a.test.ts",
		"\x1b]8;;https://x\x07link\x1b]8;;\x07": "link",
		"a\x00b\x7fc\tc":                        "abc\tc",
		"\x1b[2K\x1b[1G done":                   " done",
		"plain":                                 "plain",
		"\x1b":                                  "",
		"\x1b[":                                 "[",
		"\u0085next-line control is dropped \u009b": "next-line control is dropped ",
	}
	for in, want := range cases {
		assert.Equal(t, want, StripANSI(in), "%q", in)
	}
}

func TestLogLines(t *testing.T) {
	log := "\ufeff2026-11-20T10:00:00.1000000Z before\n" +
		"2026-11-20T10:00:04.5000000Z edge-before\n" +
		"2026-11-20T10:00:05.0000000Z \x1b[32min\x1b[0m\n" +
		"continued without stamp\n" +
		"2026-11-20T10:00:06.0000000Z a\rb\n" +
		"2026-11-20T10:00:09.0000000Z edge-after\n" +
		"2026-11-20T10:00:09.0000001Z after\n" +
		"2026-11-20T10:00:10Z late\n"
	from := time.Date(2026, 11, 20, 10, 0, 5, 0, time.UTC)
	to := time.Date(2026, 11, 20, 10, 0, 8, 0, time.UTC)
	assert.Equal(t, []string{"edge-before", "in", "continued without stamp", "a", "b", "edge-after"}, LogLines([]byte(log), from, to))
	all := LogLines([]byte(log), time.Time{}, to)
	assert.Equal(t, []string{"before", "edge-before", "in", "continued without stamp", "a", "b", "edge-after", "after", "late"}, all)
	assert.Empty(t, LogLines([]byte("no stamp at all\n"), from, to), "unstamped lines are outside any window")
}

func TestParseTestLogVitest(t *testing.T) {
	lines := []string{
		" ✓ src/a.test.ts (24 tests) 113ms",
		" ✓ src/b.test.ts (1 test) 5ms 30 MB heap used",
		" ❯ src/c.test.ts (9 tests | 1 failed) 34ms",
		"   × c > fails 3ms",
		"   ✓ c > passes 1ms",
		" × src/d.test.ts",
		" ✗ src/e.test.ts (2 tests | 2 failed)",
		" ↓ src/f.test.ts (3 tests | 3 skipped)",
		" ✓ src/g.test.ts (3 tests | 3 skipped)",
		" ✓ src/h.test.ts (4 tests | 1 skipped) 9ms",
		" ✓ src/i.test.ts (3)",
		" ✓ src/j.test.ts 12ms",
		" ❯ src/k.test.ts:12:5",
		" FAIL  src/l.test.ts > suite > test",
		" ✓ src/l.test.ts (2 tests) 1ms",
		" ✓ |unit| src/m.test.ts (2 tests) 1ms",
		"FAIL: not a path line",
		" Test Files  4 passed | 5 failed | 1 skipped (10)",
	}
	rep := ParseTestLog(lines, ReporterAuto)
	want := map[string]string{
		"src/a.test.ts": FilePassed, "src/b.test.ts": FilePassed, "src/c.test.ts": FileFailed,
		"src/d.test.ts": FileFailed, "src/e.test.ts": FileFailed, "src/f.test.ts": FileSkipped,
		"src/g.test.ts": FileSkipped, "src/h.test.ts": FilePassed, "src/i.test.ts": FilePassed,
		"src/l.test.ts": FileFailed, "src/m.test.ts": FilePassed,
	}
	for p, w := range want {
		require.Contains(t, rep.Files, p)
		assert.Equal(t, w, rep.Files[p].Result(), p)
	}
	assert.NotContains(t, rep.Files, "src/j.test.ts", "a pass line needs the test count")
	assert.NotContains(t, rep.Files, "src/k.test.ts:12:5", "a stack frame is not a file")
	assert.Equal(t, FileOutcome{Path: "src/c.test.ts", FailMark: true, Tests: 9, Failed: 1}, *rep.Files["src/c.test.ts"])
	assert.Equal(t, FileOutcome{Path: "src/h.test.ts", PassMark: true, Tests: 4, Skipped: 1}, *rep.Files["src/h.test.ts"])
	assert.Equal(t, &Summary{Passed: 4, Failed: 5, Skipped: 1, Total: 10}, rep.Summary)
}

func TestParseTestLogJest(t *testing.T) {
	lines := []string{
		" PASS  src/a.test.ts (5.2 s)",
		" PASS  src/b.test.ts",
		" FAIL  src/c.test.ts",
		"  ● c › fails",
		" PASS  src/d.test.ts something else",
		"Test Suites: 1 failed, 2 passed, 3 total",
	}
	rep := ParseTestLog(lines, ReporterJest)
	assert.Equal(t, FilePassed, rep.Files["src/a.test.ts"].Result())
	assert.Equal(t, FilePassed, rep.Files["src/b.test.ts"].Result())
	assert.Equal(t, FileFailed, rep.Files["src/c.test.ts"].Result())
	assert.NotContains(t, rep.Files, "src/d.test.ts")
	assert.Equal(t, &Summary{Passed: 2, Failed: 1, Total: 3}, rep.Summary)
	assert.Empty(t, ParseTestLog([]string{" ✓ src/a.test.ts (1 test)"}, ReporterJest).Files, "jest ignores vitest lines")
}

func TestMatching(t *testing.T) {
	rep := TestReport{}
	for _, p := range []string{"src/a.test.ts", "pkg/x/src/a.test.ts", "xsrc/a.test.ts", "src/a.test.tsx", "a.test.ts"} {
		rep.file(p).PassMark = true
	}
	var got []string
	for _, o := range rep.Matching("./src/a.test.ts") {
		got = append(got, o.Path)
	}
	assert.Equal(t, []string{"pkg/x/src/a.test.ts", "src/a.test.ts"}, got)
	assert.Empty(t, rep.Matching(""))
}

func TestParseJUnit(t *testing.T) {
	xml := `<?xml version="1.0" encoding="ISO-8859-1"?>
<testsuites>
  <testsuite name="outer" file="src/a.test.ts">
    <testsuite name="inner">
      <testcase name="one" classname="A"/>
      <testcase name="two" classname="A"><skipped/></testcase>
    </testsuite>
  </testsuite>
  <testsuite name="src/b.test.ts" tests="1" failures="0">
    <testcase name="err" classname="src/b.test.ts"><error message="boom"/></testcase>
  </testsuite>
  <testsuite name="src/c.test.ts" tests="2" skipped="2">
    <testcase name="s1" classname="src/c.test.ts"><skipped/></testcase>
    <testcase name="s2" classname="src/c.test.ts"><skipped/></testcase>
  </testsuite>
  <testsuite name="src/d.test.ts" tests="0" failures="0" errors="1"/>
  <testsuite name="jest">
    <testcase name="x" classname="x" file="src/e.test.ts"/>
  </testsuite>
  <testsuite name="entities">
    <testcase name="&nbsp;" classname="src/f.test.ts"/>
  </testsuite>
</testsuites>`
	rep, err := ParseJUnit([]byte(xml))
	require.NoError(t, err)
	want := map[string]string{
		"src/a.test.ts": FilePassed, "src/b.test.ts": FileFailed, "src/c.test.ts": FileSkipped,
		"src/d.test.ts": FileFailed, "src/e.test.ts": FilePassed, "src/f.test.ts": FilePassed,
	}
	for p, w := range want {
		require.Contains(t, rep.Files, p)
		assert.Equal(t, w, rep.Files[p].Result(), p)
	}
	assert.Equal(t, FileOutcome{Path: "src/a.test.ts", PassMark: true, Tests: 2, Skipped: 1}, *rep.Files["src/a.test.ts"])

	_, err = ParseJUnit([]byte(`<testsuites><testsuite name="x"><testcase`))
	require.Error(t, err)
	deep := strings.Repeat("<testsuite>", maxXMLDepth+1)
	_, err = ParseJUnit([]byte(deep))
	require.ErrorContains(t, err, "nested deeper")
}

func TestJUnitFromZipLimits(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("big.xml")
	require.NoError(t, err)
	// Highly compressible: a few KiB of zip, more than the per-file cap unpacked.
	chunk := []byte(strings.Repeat(" ", 1<<20))
	for range maxXMLBytes>>20 + 1 {
		_, err = w.Write(chunk)
		require.NoError(t, err)
	}
	w, err = zw.Create("ok.xml")
	require.NoError(t, err)
	_, err = w.Write([]byte(junitGreen))
	require.NoError(t, err)
	w, err = zw.Create("bad.xml")
	require.NoError(t, err)
	_, err = w.Write([]byte("<testsuite><testcase"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	rep, notes, err := JUnitFromZip(buf.Bytes())
	require.NoError(t, err)
	assert.Len(t, notes, 2)
	assert.Contains(t, notes[0], "big.xml is larger than 32 MiB")
	assert.Contains(t, notes[1], "bad.xml")
	assert.Equal(t, FilePassed, rep.Files["src/gateway/auth.test.ts"].Result())

	_, _, err = JUnitFromZip([]byte("PK nope"))
	require.Error(t, err)
	_, notes, err = JUnitFromZip(zipOf(t, map[string]string{"a.txt": "x"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"the artifact holds no .xml file"}, notes)
}

// passLineFor reports whether some line shows a pass marker next to path: the property
// a parsed pass must always have.
func passLineFor(lines []string, path string) bool {
	for _, l := range lines {
		if !strings.Contains(l, path) {
			continue
		}
		if strings.Contains(l, "✓") || strings.Contains(l, "√") || strings.Contains(l, "PASS") {
			return true
		}
	}
	return false
}

func failLineFor(lines []string, path string) bool {
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "FAIL" && normPath(f[1]) == path {
			return true
		}
	}
	return false
}

func FuzzParseTestLog(f *testing.F) {
	f.Add(string(jobLog(nil, greenVitest, nil)), "src/gateway/auth.test.ts")
	f.Add(" ❯ src/a.test.ts (2 tests | 1 failed)\n ✓ src/a.test.ts (2 tests)\n", "src/a.test.ts")
	f.Add(" PASS  src/a.test.ts (1 s)\n FAIL  src/a.test.ts\n", "src/a.test.ts")
	f.Add("2026-11-20T10:00:06.1234567Z \x1b[32m✓\x1b[0m src/a.test.ts (3 tests | 3 skipped)\r ✓ x (1)", "x")
	f.Fuzz(func(t *testing.T, log, file string) {
		lines := LogLines([]byte(log), time.Time{}, time.Time{})
		for _, reporter := range []string{ReporterAuto, ReporterVitest, ReporterJest} {
			rep := ParseTestLog(lines, reporter)
			for p, o := range rep.Files {
				if o.Result() == FilePassed {
					if !passLineFor(lines, p) {
						t.Fatalf("%s passed without a pass line", p)
					}
					if failLineFor(lines, p) {
						t.Fatalf("%s passed despite a FAIL line", p)
					}
				}
			}
			// The configured-file view never invents a pass either.
			fr := combineFiles([]string{file}, &rep, nil, true)[0]
			if fr.Result == FilePassed && !passLineFor(lines, normPath(file)) {
				t.Fatalf("%q passed without a pass line", file)
			}
		}
	})
}

func FuzzParseJUnit(f *testing.F) {
	f.Add([]byte(junitGreen))
	f.Add([]byte(junitAuthFails))
	f.Add([]byte(`<testsuite file="a"><testcase><failure/><skipped/></testcase></testsuite>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ParseJUnit(data)
		if err != nil {
			return
		}
		for p, o := range rep.Files {
			if o.Result() == FilePassed && o.Tests-o.Failed-o.Skipped <= 0 {
				t.Fatalf("%s passed with no test that ran: %+v", p, *o)
			}
			if o.Result() == FilePassed && !bytes.Contains(data, []byte("testcase")) {
				t.Fatalf("%s passed without a test case", p)
			}
		}
	})
}

func FuzzJUnitFromZip(f *testing.F) {
	f.Add(zipOf(f, map[string]string{"r.xml": junitGreen}))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, _, err := JUnitFromZip(data)
		if err != nil && len(rep.Files) > 0 {
			t.Fatal("a zip that cannot be read yields no results")
		}
	})
}
