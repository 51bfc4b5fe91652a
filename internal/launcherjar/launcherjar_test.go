package launcherjar

import (
	"bytes"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	long := "/opt/flink/usrlib/" + strings.Repeat("a-very-long-directory-name/", 4) + "job with space.jar"
	for _, tc := range []struct {
		name      string
		paths     []string
		classPath string
		wantErr   string
	}{
		{name: "classpath only"},
		{name: "one local jar", paths: []string{"/opt/flink/usrlib/job.jar"}, classPath: "file:///opt/flink/usrlib/job.jar"},
		{name: "long path wraps", paths: []string{long, "/opt/lib/b.jar"},
			classPath: "file://" + strings.ReplaceAll(long, " ", "%20") + " file:///opt/lib/b.jar"},
		{name: "relative path", paths: []string{"usrlib/job.jar"}, wantErr: "not an absolute"},
		{name: "unclean path", paths: []string{"/opt/../etc/job.jar"}, wantErr: "not an absolute, clean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jar, err := Build(tc.paths...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			attrs, err := Manifest(jar)
			if err != nil {
				t.Fatal(err)
			}
			if attrs["Manifest-Version"] != "1.0" || attrs["Main-Class"] != "" {
				t.Errorf("attributes %v: want version 1.0 and no Main-Class", attrs)
			}
			if got := attrs["Class-Path"]; got != tc.classPath {
				t.Errorf("Class-Path = %q, want %q", got, tc.classPath)
			}
		})
	}
}

func TestManifestLinesFitTheLimit(t *testing.T) {
	long := strings.Repeat("x", 300)
	var out bytes.Buffer
	writeAttribute(&out, "Class-Path", long)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\r\n"), "\r\n")
	joined := ""
	for i, l := range lines {
		if len(l) > maxLine {
			t.Errorf("line %d has %d bytes", i, len(l))
		}
		if i > 0 {
			if !strings.HasPrefix(l, " ") {
				t.Errorf("continuation line %d does not start with a space", i)
			}
			l = l[1:]
		}
		joined += l
	}
	if joined != "Class-Path: "+long {
		t.Errorf("joined lines = %q", joined)
	}
}
