package main

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// writeVerbs are the apiserver_request_total verbs that change objects
// (the apiserver labels requests by HTTP method, and server-side apply
// patches as APPLY).
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}

// writeMethods are the HTTP methods of client-go requests that change
// objects.
var writeMethods = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// memberRequests sums, over every member apiserver, the requests served
// (apiserver_request_total) by requestKey.
func (e *env) memberRequests(ctx context.Context) (map[string]float64, error) {
	total := map[string]float64{}
	return total, e.eachMemberMetrics(ctx, func(body []byte) {
		for _, s := range samples(string(body), "apiserver_request_total") {
			total[requestKey(s.labels)] += s.value
		}
	})
}

// requestKey names an apiserver_request_total sample by verb and resource
// ("PATCH flinkdeployments/status"); a request refused or failed carries
// its code ("PATCH flinkdeployments/status 409"), so conflicts are told
// from writes that landed.
func requestKey(labels map[string]string) string {
	key := labels["verb"] + " " + labels["resource"]
	if sub := labels["subresource"]; sub != "" {
		key += "/" + sub
	}
	if code := labels["code"]; code != "" && !strings.HasPrefix(code, "2") {
		key += " " + code
	}
	return key
}

// hubRequests are the requests the hub apiserver served
// (apiserver_request_total) by requestKey.
func (e *env) hubRequests(ctx context.Context) (map[string]float64, error) {
	total := map[string]float64{}
	return total, eachAPIServerMetrics(ctx, []*framework.ControlPlane{e.fleet.Hub}, func(body []byte) {
		for _, s := range samples(string(body), "apiserver_request_total") {
			total[requestKey(s.labels)] += s.value
		}
	})
}

// eachMemberMetrics passes each member apiserver's /metrics to f.
func (e *env) eachMemberMetrics(ctx context.Context, f func(body []byte)) error {
	return eachAPIServerMetrics(ctx, e.fleet.Members, f)
}

// eachAPIServerMetrics passes the /metrics of each control plane's
// apiserver to f.
func eachAPIServerMetrics(ctx context.Context, planes []*framework.ControlPlane, f func(body []byte)) error {
	for _, m := range planes {
		cs, err := kubernetes.NewForConfig(m.Config)
		if err != nil {
			return err
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("metrics of %s: %w", m.Name, err)
		}
		f(body)
	}
	return nil
}

// memberWatches is how many watch streams the member apiservers serve now
// (apiserver_longrunning_requests, verb WATCH), all members together.
func (e *env) memberWatches(ctx context.Context) (float64, error) {
	var n float64
	err := e.eachMemberMetrics(ctx, func(body []byte) {
		for _, s := range samples(string(body), "apiserver_longrunning_requests") {
			if s.labels["verb"] == "WATCH" {
				n += s.value
			}
		}
	})
	return n, err
}

// writesOf sums the write verbs of requests (memberRequests' keys).
func writesOf(requests map[string]float64) float64 {
	var n float64
	for key, v := range requests {
		if verb, _, _ := strings.Cut(key, " "); writeVerbs[verb] {
			n += v
		}
	}
	return n
}

// hubWrites sums the writes replica r sent to member apiservers
// (rest_client_requests_total by host and method).
func (e *env) hubWrites(ctx context.Context, r *replica) (float64, error) {
	members := map[string]bool{}
	for _, m := range e.fleet.Members {
		u, err := url.Parse(m.Config.Host)
		if err != nil {
			return 0, err
		}
		members[u.Host] = true
	}
	body, err := get(ctx, r.metrics)
	if err != nil {
		return 0, err
	}
	return sumCounter(string(body), "rest_client_requests_total", func(l map[string]string) bool {
		return writeMethods[l["method"]] && members[l["host"]]
	}), nil
}

// writeCount is a reading of the request counters: the member
// apiservers', the hub apiserver's and each live replica's writes, and
// when it was taken.
type writeCount struct {
	member    map[string]float64 // memberRequests
	hubServed map[string]float64 // hubRequests
	hub       map[string]float64
	at        time.Time
}

// writeCounts reads the member apiservers', the hub apiserver's and every
// live replica's request counters.
func (e *env) writeCounts(ctx context.Context) (writeCount, error) {
	at := time.Now()
	member, err := e.memberRequests(ctx)
	if err != nil {
		return writeCount{}, err
	}
	hubServed, err := e.hubRequests(ctx)
	if err != nil {
		return writeCount{}, err
	}
	w := writeCount{member: member, hubServed: hubServed, hub: map[string]float64{}, at: at}
	for _, rep := range e.live() {
		if w.hub[rep.id], err = e.hubWrites(ctx, rep); err != nil {
			return writeCount{}, err
		}
	}
	return w, nil
}

// since returns the member apiservers' writes and the replicas' writes
// (of replicas read both times) between before and w.
func (w writeCount) since(before writeCount) (member, hub float64) {
	for id, n := range w.hub {
		if n0, ok := before.hub[id]; ok {
			hub += n - n0
		}
	}
	return writesOf(w.memberRequestsSince(before)), hub
}

// perMemberInterval returns, of the requests between before and w, the
// member health probes (each probe asks /readyz once) and the
// MemberCluster status writes the hub apiserver served, each per member
// per health probe interval.
func (w writeCount) perMemberInterval(before writeCount, members int, probeInterval time.Duration) (probes, statusWrites float64) {
	intervals := float64(members) * w.at.Sub(before.at).Seconds() / probeInterval.Seconds()
	if intervals <= 0 {
		return 0, 0
	}
	probes = w.member[probeRequest] - before.member[probeRequest]
	for key, n := range w.hubServed {
		verb, rest, _ := strings.Cut(key, " ")
		if resource, _, _ := strings.Cut(rest, " "); writeVerbs[verb] && resource == "memberclusters/status" {
			statusWrites += n - before.hubServed[key]
		}
	}
	return probes / intervals, statusWrites / intervals
}

// probeRequest is the requestKey of a member health probe's /readyz.
const probeRequest = "GET //readyz"

// memberRequestsSince returns the member apiservers' requests by verb and
// resource between before and w.
func (w writeCount) memberRequestsSince(before writeCount) map[string]float64 {
	return countsSince(w.member, before.member)
}

// countsSince returns, by key, what a counter reading gained since
// before (keys that did not change left out).
func countsSince(now, before map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for key, n := range now {
		if n -= before[key]; n != 0 {
			d[key] = n
		}
	}
	return d
}

// sample is one sample of a Prometheus text-format metric.
type sample struct {
	labels map[string]string
	value  float64
}

// samples returns the samples of the Prometheus text-format metric name.
func samples(text, name string) []sample {
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), name+"{")
		if !ok {
			continue
		}
		labelText, value, ok := strings.Cut(line, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		out = append(out, sample{labels: parseLabels(labelText), value: v})
	}
	return out
}

// sumCounter adds the samples of the Prometheus text-format metric name
// whose labels keep accepts.
func sumCounter(text, name string, keep func(labels map[string]string) bool) float64 {
	var sum float64
	for _, s := range samples(text, name) {
		if keep(s.labels) {
			sum += s.value
		}
	}
	return sum
}

// parseLabels parses `a="x",b="y"` (values without escaped quotes).
func parseLabels(text string) map[string]string {
	labels := map[string]string{}
	for _, part := range strings.Split(text, "\",") {
		k, v, ok := strings.Cut(part, "=\"")
		if ok {
			labels[k] = strings.TrimSuffix(v, "\"")
		}
	}
	return labels
}
