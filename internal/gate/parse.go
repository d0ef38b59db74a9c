package gate

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The result of one test file, in a report and in TestsDetail.
const (
	FilePassed    = "passed"
	FileFailed    = "failed"
	FileDidNotRun = "did_not_run"
	// FileSkipped: the file was reported, but every one of its tests was skipped; it
	// proves nothing, so it fails the gate like a file that did not run.
	FileSkipped = "skipped"
)

// FileOutcome is what one evidence source said about one test file path as the source
// printed it. A file passes only on a pass mark and never with any failure: a file
// that is absent, or whose tests were all skipped, did not run.
type FileOutcome struct {
	Path string `json:"path"`
	// PassMark: a pass line (vitest ✓/√ with a test count, jest PASS) or a JUnit test
	// case that ran without failure.
	PassMark bool `json:"pass_mark"`
	// FailMark: a failure line (vitest ❯, ×, ✗, FAIL; jest FAIL) or a failed JUnit case
	// or suite.
	FailMark bool `json:"fail_mark"`
	// SkipMark: the file was reported but none of its tests ran.
	SkipMark bool `json:"skip_mark"`
	Tests    int  `json:"tests"`
	Failed   int  `json:"failed"`
	Skipped  int  `json:"skipped"`
}

// Result is FileFailed, FilePassed, FileSkipped or FileDidNotRun; a failure wins over
// any pass. A file passes only when it ran at least one test and none failed.
func (o *FileOutcome) Result() string {
	switch {
	case o.FailMark || o.Failed > 0:
		return FileFailed
	case o.PassMark:
		return FilePassed
	case o.SkipMark:
		return FileSkipped
	default:
		return FileDidNotRun
	}
}

// Summary is a reporter's closing count of test files ("Test Files  2 passed | 1 failed
// (3)", jest's "Test Suites: 1 failed, 2 passed, 3 total").
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Total   int `json:"total"`
}

// TestReport is what one source (a log or a set of JUnit files) reported, by path.
type TestReport struct {
	Files   map[string]*FileOutcome
	Summary *Summary
}

func (t *TestReport) file(p string) *FileOutcome {
	if t.Files == nil {
		t.Files = map[string]*FileOutcome{}
	}
	o := t.Files[p]
	if o == nil {
		o = &FileOutcome{Path: p}
		t.Files[p] = o
	}
	return o
}

func (t *TestReport) merge(o TestReport) {
	for _, p := range slices.Sorted(maps.Keys(o.Files)) {
		src := o.Files[p]
		dst := t.file(p)
		dst.PassMark = dst.PassMark || src.PassMark
		dst.FailMark = dst.FailMark || src.FailMark
		dst.SkipMark = dst.SkipMark || src.SkipMark
		dst.Tests += src.Tests
		dst.Failed += src.Failed
		dst.Skipped += src.Skipped
	}
	if o.Summary != nil && t.Summary == nil {
		s := *o.Summary
		t.Summary = &s
	}
}

// Matching returns the outcomes whose path is the configured file or ends with "/"+file
// (a monorepo prefix), never a mere substring.
func (t *TestReport) Matching(file string) []*FileOutcome {
	want := normPath(file)
	var out []*FileOutcome
	for _, p := range slices.Sorted(maps.Keys(t.Files)) {
		if fileMatches(want, p) {
			out = append(out, t.Files[p])
		}
	}
	return out
}

func fileMatches(want, got string) bool {
	if want == "" || got == "" {
		return false
	}
	return got == want || strings.HasSuffix(got, "/"+want)
}

func normPath(p string) string {
	p = strings.ReplaceAll(strings.TrimSpace(p), `\`, "/")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return strings.TrimLeft(p, "/")
}

var (
	ansiRe = regexp.MustCompile("\x1b\\[[0-?]*[ -/]*[@-~]|\x1b\\][^\x07\x1b]*(?:\x07|\x1b\\\\)?|\x1b[@-Z\\\\-_]?")
	// GitHub prefixes every job-log line with its time and one space.
	tsRe = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z)(?: |$)`)
)

// StripANSI removes terminal escape sequences and other control characters (a tab
// stays) from one line.
func StripANSI(s string) string {
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = ansiRe.ReplaceAllString(s, "")
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// LogLines returns the lines of a job log with GitHub's timestamp prefix and terminal
// escapes removed. When from and to are both set, only lines stamped inside
// [from-1s, to+1s] are kept (step times have second precision); a line without a stamp
// takes the stamp of the line before it, and lines before the first stamp are dropped.
// When either is zero the whole log is used. A carriage return splits a line, because
// a terminal shows what follows it as a new line.
func LogLines(log []byte, from, to time.Time) []string {
	windowed := !from.IsZero() && !to.IsZero()
	lo, hi := from.Add(-time.Second), to.Add(time.Second)
	var (
		out  []string
		cur  time.Time
		have bool
	)
	text := strings.TrimPrefix(string(log), "\ufeff")
	for raw := range strings.SplitSeq(text, "\n") {
		if m := tsRe.FindStringSubmatch(raw); m != nil {
			if t, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				cur, have = t, true
				raw = raw[len(m[0]):]
			}
		}
		if windowed && (!have || cur.Before(lo) || cur.After(hi)) {
			continue
		}
		for seg := range strings.SplitSeq(raw, "\r") {
			if seg = StripANSI(seg); strings.TrimSpace(seg) != "" {
				out = append(out, seg)
			}
		}
	}
	return out
}

// Reporters ParseTestLog understands.
const (
	ReporterAuto   = "auto"
	ReporterVitest = "vitest"
	ReporterJest   = "jest"
)

var (
	// vitest: " ✓ src/a.test.ts (24 tests) 113ms", " ❯ src/a.test.ts (9 tests | 1 failed)",
	// " × src/a.test.ts", " ↓ src/a.test.ts (3 tests | 3 skipped)"; with projects a badge
	// comes first: "|unit|" without colour, " unit " on a coloured background (which is
	// " unit " once the colours are stripped).
	vitestFileRe = regexp.MustCompile(`^\s*([✓√❯×✗↓])\s+(.*)$`)
	// The count that follows a file: "(24 tests)", "(9 tests | 1 failed)", "(1 test)".
	vitestTailStartRe = regexp.MustCompile(`\s+\(\d+(?:\s+tests?)?(?:\s*\|[^()]*)?\)`)
	// What may follow the path on a pass line: the test count (required), then optional
	// duration and heap figures. A test-case line ("✓ name 3ms") has no count.
	vitestPassTailRe = regexp.MustCompile(`^\s+\((\d+(?:\s+tests?)?(?:\s*\|[^()]*)?)\)(?:\s+\d+(?:\.\d+)?\s?(?:ms|s))?(?:\s+\d+(?:\.\d+)?\s?MB heap used)?\s*$`)
	// A stack frame ("❯ src/a.test.ts:12:5") is not a file line.
	lineColRe = regexp.MustCompile(`:\d+(?::\d+)?\)?$`)
	// "FAIL src/a.test.ts > suite > test" (vitest), " FAIL  src/a.test.ts" (jest), with an
	// optional project badge before the path.
	failRe = regexp.MustCompile(`^\s*FAIL\s+(.+?)(?:\s+>\s.*)?$`)
	// jest: " PASS  src/a.test.ts (5.2 s)", with projects " PASS  unit  src/a.test.ts".
	jestPassRe   = regexp.MustCompile(`^\s*PASS\s+(.+?)(?:\s+\(\d+(?:\.\d+)?\s?m?s\))?\s*$`)
	vitestSumRe  = regexp.MustCompile(`^\s*Test Files\s+(.+?)\s*\((\d+)\)\s*$`)
	jestSumRe    = regexp.MustCompile(`^\s*Test Suites:\s+(.+?)\s*$`)
	countPartsRe = regexp.MustCompile(`(\d+)\s+(passed|failed|skipped|todo|total)`)
)

// ParseTestLog reads the per-file lines of vitest's and jest's default reporters from
// log lines (already through LogLines). reporter is ReporterVitest, ReporterJest or
// ReporterAuto ("" too), which accepts both.
//
// A file is marked passed by " ✓ path (N tests)" (or √) whose tests did not all skip, or
// by jest's "PASS path"; failed by " ❯ path", " × path", " ✗ path" or any "FAIL path"
// line (vitest prints "FAIL path > suite > test" for each failed test); skipped by
// " ↓ path". A file printed more than once keeps every mark, and any failure wins.
func ParseTestLog(lines []string, reporter string) TestReport {
	vitest := reporter != ReporterJest
	jest := reporter != ReporterVitest
	var rep TestReport
	for _, l := range lines {
		if vitest {
			if m := vitestFileRe.FindStringSubmatch(l); m != nil {
				pre, tail := m[2], ""
				if loc := vitestTailStartRe.FindStringIndex(pre); loc != nil {
					pre, tail = pre[:loc[0]], pre[loc[0]:]
				}
				vitestLine(&rep, m[1], normPath(filePart(pre)), tail)
				continue
			}
			if m := vitestSumRe.FindStringSubmatch(l); m != nil && rep.Summary == nil {
				s := summaryCounts(m[1])
				s.Total, _ = strconv.Atoi(m[2])
				rep.Summary = &s
				continue
			}
		}
		if m := failRe.FindStringSubmatch(l); m != nil {
			if p := normPath(filePart(m[1])); p != "" {
				rep.file(p).FailMark = true
			}
			continue
		}
		if jest {
			if m := jestPassRe.FindStringSubmatch(l); m != nil {
				// Strict: "PASS [project] path [(time)]" and nothing else after the path.
				if f := strings.Fields(m[1]); len(f) > 0 && fileFieldRe.MatchString(f[len(f)-1]) {
					rep.file(normPath(f[len(f)-1])).PassMark = true
				}
				continue
			}
			if m := jestSumRe.FindStringSubmatch(l); m != nil && rep.Summary == nil {
				s := summaryCounts(m[1])
				rep.Summary = &s
			}
		}
	}
	return rep
}

// filePart is the path in "[project badge] path [more]": the first field that looks like
// a file (a name with an alphabetic extension, not a "(2.1 s)" timing), after a
// "|project|" badge. A coloured badge loses its colours with the escapes and reads as a
// bare project name (" unit  test/a.test.ts"), which has no extension. A line without
// such a field names no file.
func filePart(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "|") {
		if i := strings.Index(s[1:], "|"); i >= 0 {
			s = s[i+2:]
		}
	}
	for _, f := range strings.Fields(s) {
		if fileFieldRe.MatchString(f) {
			return f
		}
	}
	return ""
}

var fileFieldRe = regexp.MustCompile(`^[^(\[|]\S*\.[A-Za-z][A-Za-z0-9]*$`)

func vitestLine(rep *TestReport, mark, p, tail string) {
	if p == "" {
		return
	}
	switch mark {
	case "✓", "√":
		m := vitestPassTailRe.FindStringSubmatch(tail)
		if m == nil {
			return // a test case or some other line, not a file
		}
		tests, failed, skipped := fileCounts(m[1])
		o := rep.file(p)
		o.Tests += tests
		o.Failed += failed
		o.Skipped += skipped
		if tests == 0 || skipped >= tests {
			o.SkipMark = true
		} else {
			o.PassMark = true
		}
	case "↓":
		o := rep.file(p)
		o.SkipMark = true
		if m := vitestPassTailRe.FindStringSubmatch(tail); m != nil {
			tests, _, skipped := fileCounts(m[1])
			o.Tests += tests
			o.Skipped += skipped
		}
	default: // ❯ × ✗
		if lineColRe.MatchString(p) {
			return
		}
		o := rep.file(p)
		o.FailMark = true
		if m := vitestPassTailRe.FindStringSubmatch(tail); m != nil {
			tests, failed, skipped := fileCounts(m[1])
			o.Tests += tests
			o.Failed += failed
			o.Skipped += skipped
		}
	}
}

// fileCounts reads "24 tests", "9 tests | 1 failed", "3 tests | 3 skipped", "3".
func fileCounts(s string) (tests, failed, skipped int) {
	parts := strings.Split(s, "|")
	if f := strings.Fields(parts[0]); len(f) > 0 {
		tests, _ = strconv.Atoi(f[0])
	}
	for _, p := range parts[1:] {
		f := strings.Fields(p)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.Atoi(f[0])
		switch f[1] {
		case "failed":
			failed += n
		case "skipped", "todo":
			skipped += n
		}
	}
	return tests, failed, skipped
}

func summaryCounts(s string) Summary {
	var sum Summary
	for _, m := range countPartsRe.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "passed":
			sum.Passed += n
		case "failed":
			sum.Failed += n
		case "skipped", "todo":
			sum.Skipped += n
		case "total":
			sum.Total = n
		}
	}
	return sum
}

// Limits on JUnit evidence, which is untrusted input held in memory.
const (
	maxZipEntries = 2000
	maxXMLBytes   = 32 << 20
	maxZipTotal   = 128 << 20
	maxXMLDepth   = 256
)

// ParseJUnit reads JUnit XML: <testsuites>/<testsuite> (nested too) with <testcase>
// children holding <failure>, <error> or <skipped>. A test case counts for every path
// it names: its file attribute, the nearest suite's file (or filepath), its classname
// and the nearest suite's name (vitest writes the path in name and classname). A suite
// whose failures or errors attribute is not zero fails the paths it names even without
// test cases (a file that failed to load).
func ParseJUnit(data []byte) (TestReport, error) {
	type frame struct {
		name, file string
		bad        bool
	}
	type tcase struct {
		paths           []string
		failed, skipped bool
	}
	var (
		rep   TestReport
		stack []frame
		tc    *tcase
	)
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	nearest := func(get func(frame) string) string {
		for i := len(stack) - 1; i >= 0; i-- {
			if v := get(stack[i]); v != "" {
				return v
			}
		}
		return ""
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rep, fmt.Errorf("read JUnit XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "testsuite":
				if len(stack) >= maxXMLDepth {
					return rep, fmt.Errorf("read JUnit XML: test suites nested deeper than %d", maxXMLDepth)
				}
				f := frame{name: attr(t, "name"), file: attr(t, "file")}
				if f.file == "" {
					f.file = attr(t, "filepath")
				}
				f.bad = atoi(attr(t, "failures")) > 0 || atoi(attr(t, "errors")) > 0
				stack = append(stack, f)
			case "testcase":
				if tc != nil {
					continue // a test case inside a test case is not JUnit; the outer one counts
				}
				tc = &tcase{paths: uniquePaths(
					attr(t, "file"),
					nearest(func(f frame) string { return f.file }),
					attr(t, "classname"),
					nearest(func(f frame) string { return f.name }),
				)}
			case "failure", "error":
				if tc != nil {
					tc.failed = true
				}
			case "skipped":
				if tc != nil {
					tc.skipped = true
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "testcase":
				if tc == nil {
					continue
				}
				for _, p := range tc.paths {
					o := rep.file(p)
					o.Tests++
					switch {
					case tc.failed:
						o.Failed++
						o.FailMark = true
					case tc.skipped:
						o.Skipped++
						if !o.PassMark {
							o.SkipMark = true
						}
					default:
						o.PassMark = true
					}
				}
				tc = nil
			case "testsuite":
				if len(stack) == 0 {
					continue
				}
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if f.bad {
					for _, p := range uniquePaths(f.file, f.name) {
						rep.file(p).FailMark = true
					}
				}
			}
		}
	}
	return rep, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}

func uniquePaths(ps ...string) []string {
	var out []string
	for _, p := range ps {
		if p = normPath(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// JUnitFromZip reads every *.xml file of an artifact zip held in memory, within limits
// (entries, bytes per file, total bytes). An unreadable file is skipped with a note; an
// unreadable zip is an error. Nothing is written to disk, so entry names only appear in
// notes.
func JUnitFromZip(data []byte) (TestReport, []string, error) {
	var rep TestReport
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return rep, nil, fmt.Errorf("open artifact zip: %w", err)
	}
	var notes []string
	total, seen := 0, 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(strings.ToLower(f.Name), ".xml") {
			continue
		}
		if seen++; seen > maxZipEntries {
			notes = append(notes, fmt.Sprintf("more than %d XML files in the artifact; the rest were not read", maxZipEntries))
			break
		}
		name := clean(f.Name)
		if f.UncompressedSize64 > maxXMLBytes {
			notes = append(notes, fmt.Sprintf("%s is larger than %d MiB; not read", name, maxXMLBytes>>20))
			continue
		}
		rc, err := f.Open()
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxXMLBytes+1))
		_ = rc.Close()
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if len(b) > maxXMLBytes {
			notes = append(notes, fmt.Sprintf("%s is larger than %d MiB; not read", name, maxXMLBytes>>20))
			continue
		}
		if total += len(b); total > maxZipTotal {
			notes = append(notes, fmt.Sprintf("the artifact holds more than %d MiB of XML; the rest was not read", maxZipTotal>>20))
			break
		}
		r, err := ParseJUnit(b)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		rep.merge(r)
	}
	if seen == 0 {
		notes = append(notes, "the artifact holds no .xml file")
	}
	return rep, notes, nil
}
