// Package grafana holds the Grafana dashboard of the hub's Prometheus
// metrics (flink-hub-dashboard.json); its test checks that every metric the
// dashboard queries is one the hub registers.
package grafana
