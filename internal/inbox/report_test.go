package inbox

import "testing"

func TestReportGhsyncFormat(t *testing.T) {
	rows := 41
	r := &Report{Prefix: "in/E1/2026-05-07/t1/", Name: "Example Council",
		Segments:    map[string]string{"area": "in", "group": "E1", "date": "2026-05-07", "timestamp": "t1"},
		GitHubIssue: "https://github.com/o/r/issues/3",
		Files: []FileReport{
			{Key: "in/E1/2026-05-07/t1/a.csv", Valid: true, Rows: &rows, Encoding: "utf-8", Delimiter: ",", Profile: "Xpress DC", Errors: []string{}},
			{Key: "in/E1/2026-05-07/t1/b.csv", Rows: new(int), Profile: "unknown", Errors: []string{"Expected file to be at least 1KB"}},
		}}
	b, err := r.JSON(FormatGhsync)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "ghsync.report.json", b)
	w, err := r.JSON(FormatWDIV)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "wdiv_two_files.report.json", w)
	if _, err := r.JSON("xml"); err == nil {
		t.Error("unknown format: no error")
	}
	if r.Passed() {
		t.Error("a set with an invalid file passed")
	}
}
