package main

import (
	"maps"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

func TestPatchChange(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"states and fields two levels deep, sorted, without metadata",
			`{"metadata":{"resourceVersion":"7"},"status":{"lifecycleState":"STABLE","jobStatus":{"state":"RUNNING","startTime":"1"},"reconciliationStatus":{"lastStableSpec":"{}","state":"DEPLOYED"}}}`,
			"jobStatus.startTime jobStatus.state=RUNNING lifecycleState=STABLE reconciliationStatus.lastStableSpec reconciliationStatus.state=DEPLOYED"},
		{"a field set to null or to an empty object is named",
			`{"status":{"error":null,"jobStatus":{"savepointInfo":{}}}}`,
			"error jobStatus.savepointInfo"},
		{"an empty object at the first level is named", `{"status":{"clusterInfo":{}}}`, "clusterInfo"},
		{"no status", `{"metadata":{"resourceVersion":"7"}}`, ""},
		{"not JSON", `{`, "(not a JSON merge patch)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := patchChange([]byte(tc.body)); got != tc.want {
				t.Errorf("patchChange(%s) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

func TestSummarizeStatusPatches(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1000+int64(s), 0) }
	deployed := `{"status":{"lifecycleState":"DEPLOYED"}}`
	created := `{"status":{"jobStatus":{"state":"CREATED"}}}`
	stable := `{"status":{"lifecycleState":"STABLE","jobStatus":{"state":"RUNNING"}}}`
	req := func(name string, s int, body string) framework.Request {
		return framework.Request{Namespace: "m1/bench", Name: name, Received: at(s), Body: []byte(body)}
	}
	// b's patches arrive out of order: the sequence follows Received.
	got := summarizeStatusPatches([]framework.Request{
		req("a", 1, deployed), req("a", 2, stable),
		req("b", 3, created), req("b", 1, deployed), req("b", 5, stable),
		{Namespace: "m2/bench", Name: "a", Received: at(1), Body: []byte(deployed)},
	})
	if want := map[int]int{1: 1, 2: 1, 3: 1}; !maps.Equal(got.FDsByPatches, want) {
		t.Errorf("FDs by patches %v, want %v", got.FDsByPatches, want)
	}
	if want := map[string]int{"lifecycleState=DEPLOYED": 3, "jobStatus.state=CREATED": 1, "jobStatus.state=RUNNING lifecycleState=STABLE": 2}; !maps.Equal(got.ByChange, want) {
		t.Errorf("by change %v, want %v", got.ByChange, want)
	}
	want := map[string]int{"lifecycleState=DEPLOYED | jobStatus.state=CREATED | jobStatus.state=RUNNING lifecycleState=STABLE": 1}
	if !maps.Equal(got.Beyond, want) {
		t.Errorf("beyond two %v, want %v", got.Beyond, want)
	}
}
