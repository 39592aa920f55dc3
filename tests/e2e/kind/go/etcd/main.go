// The etcd server for the kind node image's registry.k8s.io/etcd stand-in (kubeadm 1.32
// wants etcd 3.5.x; Debian ships 3.4). `go install` cannot build etcd's own main package:
// go.etcd.io/etcd/server/v3's go.mod has replace directives. This wrapper module requires
// it and calls the same entry point as upstream's server/main.go.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
