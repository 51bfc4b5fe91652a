// Command etcd is the upstream etcd server, built from the Go module proxy so
// that tests can start real control planes without a download site.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
