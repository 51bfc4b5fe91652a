// Package launcherjar builds the jar the hub uploads to a session cluster
// for a job whose code is already there: on the cluster's classpath (no
// jarURI), or in a jar inside its image (a local:// jarURI). Flink's REST
// API runs jobs only from uploaded jars (/jars/{id}/run), and resolves the
// entry class with a class loader built on the uploaded jar; a jar holding
// nothing but a manifest thus runs an entry class of the classpath, and its
// manifest's Class-Path puts a local jar on that loader (the JVM's
// URLClassLoader reads Class-Path, absolute file: URLs included). The jar
// names no Main-Class: the job's entry class must be given.
package launcherjar

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"
)

// maxLine is the manifest's line limit in bytes, line break excluded.
const maxLine = 72

// Build returns a jar holding only a manifest whose Class-Path lists the
// local paths (absolute, in the session cluster's image), in order.
func Build(localPaths ...string) ([]byte, error) {
	var urls []string
	for _, p := range localPaths {
		if !path.IsAbs(p) || path.Clean(p) != p {
			return nil, fmt.Errorf("%q is not an absolute, clean path", p)
		}
		urls = append(urls, (&url.URL{Scheme: "file", Path: p}).String())
	}
	var manifest bytes.Buffer
	writeAttribute(&manifest, "Manifest-Version", "1.0")
	writeAttribute(&manifest, "Created-By", "flink-hub")
	if len(urls) > 0 {
		writeAttribute(&manifest, "Class-Path", strings.Join(urls, " "))
	}
	manifest.WriteString("\r\n")

	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	// A fixed time makes equal launchers equal bytes.
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "META-INF/MANIFEST.MF", Method: zip.Deflate, Modified: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(manifest.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// writeAttribute writes "name: value" wrapped as the jar specification
// wants: lines of at most maxLine bytes, continued on lines that start
// with one space.
func writeAttribute(b *bytes.Buffer, name, value string) {
	line := name + ": " + value
	limit := maxLine
	for len(line) > limit {
		b.WriteString(line[:limit])
		b.WriteString("\r\n ")
		line = line[limit:]
		limit = maxLine - 1 // the leading space counts
	}
	b.WriteString(line)
	b.WriteString("\r\n")
}

// Manifest reads the main attributes of a jar's manifest, continuation
// lines joined; for tests and the simulator.
func Manifest(jar []byte) (map[string]string, error) {
	zr, err := zip.NewReader(bytes.NewReader(jar), int64(len(jar)))
	if err != nil {
		return nil, fmt.Errorf("not a jar: %w", err)
	}
	for _, f := range zr.File {
		if f.Name != "META-INF/MANIFEST.MF" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		var raw bytes.Buffer
		_, err = raw.ReadFrom(rc)
		_ = rc.Close()
		if err != nil {
			return nil, err
		}
		return parseManifest(raw.String()), nil
	}
	return map[string]string{}, nil
}

// parseManifest reads the main section of a manifest.
func parseManifest(text string) map[string]string {
	attrs := map[string]string{}
	var last string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		switch {
		case line == "":
			return attrs // the main section ends at the first blank line
		case strings.HasPrefix(line, " ") && last != "":
			attrs[last] += line[1:]
		default:
			name, value, ok := strings.Cut(line, ": ")
			if !ok {
				continue
			}
			attrs[name], last = value, name
		}
	}
	return attrs
}
