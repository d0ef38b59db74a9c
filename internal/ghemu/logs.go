package ghemu

import (
	"archive/zip"
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// logTimeLayout is the runner's timestamp: UTC, 7 fractional digits.
const logTimeLayout = "2006-01-02T15:04:05.0000000Z"

// jobLog renders a completed job's log as GitHub serves it: a UTF-8 BOM, then every
// line prefixed by a timestamp and a space. Each step contributes a
// "##[group]Run ..." header and its output, all stamped inside the step's
// [started_at, completed_at] window; a failed step ends with an ##[error] line.
func jobLog(j *checkRun, now time.Time) string {
	v := j.view(now)
	var b strings.Builder
	b.WriteString("\ufeff")
	if len(v.steps) == 0 {
		writeLines(&b, v.startedAt, v.completedAt, splitLog(j.spec.Log))
		return b.String()
	}
	for _, s := range v.steps {
		p := s.plan
		if s.status != "completed" || s.conclusion == "skipped" {
			continue
		}
		var lines []string
		switch p.name {
		case "Set up job":
			lines = []string{
				"Current runner version: '2.329.0'",
				"Runner name: '" + runnerName(j) + "'",
				"Runner group name: 'GitHub Actions'",
				"##[group]Operating System",
				"Ubuntu",
				"24.04.3",
				"LTS",
				"##[endgroup]",
				"##[group]Runner Image",
				"Image: ubuntu-24.04",
				"Version: 20251112.124.1",
				"##[endgroup]",
				"Secret source: Actions",
				"Prepare workflow directory",
				"Prepare all required actions",
				"Complete job name: " + j.name,
			}
		case "Complete job":
			lines = []string{"Cleaning up orphan processes"}
		default:
			lines = []string{"##[group]Run " + p.header}
			if p.header != p.name && !strings.Contains(p.header, "@") {
				lines = append(lines, p.header, "shell: /usr/bin/bash -e {0}")
			}
			lines = append(lines, "##[endgroup]")
			lines = append(lines, splitLog(p.log)...)
			switch s.conclusion {
			case "success", "neutral":
			case "cancelled":
				lines = append(lines, "##[error]The operation was canceled.")
			default:
				lines = append(lines, "##[error]Process completed with exit code 1.")
			}
		}
		writeLines(&b, s.startedAt, s.completedAt, lines)
	}
	return b.String()
}

func splitLog(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n")
}

// writeLines stamps lines evenly inside [from, to] (inclusive), at 100 ns resolution.
func writeLines(b *strings.Builder, from, to time.Time, lines []string) {
	span := to.Sub(from)
	for i, l := range lines {
		t := from
		if span > 0 {
			t = from.Add(span * time.Duration(i+1) / time.Duration(len(lines)+1)).Add(time.Duration(i*3791%9000) * 100)
			if t.After(to) {
				t = to
			}
		}
		fmt.Fprintf(b, "%s %s\n", t.UTC().Truncate(100*time.Nanosecond).Format(logTimeLayout), l)
	}
}

// buildZip packs files (sorted by name) into a zip dated at.
func buildZip(files map[string][]byte, at time.Time) []byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: at.UTC()})
		if err != nil {
			panic(fmt.Sprintf("ghemu: zip %s: %v", n, err))
		}
		_, _ = w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		panic(fmt.Sprintf("ghemu: zip: %v", err))
	}
	return buf.Bytes()
}
