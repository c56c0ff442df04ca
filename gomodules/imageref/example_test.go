package imageref_test

import (
	"fmt"

	"github.com/imageops/cloud/gomodules/imageref"
)

func ExampleRewrite() {
	src, _ := imageref.Parse("quay.io/ceph/ceph:v18")
	reg, _ := imageref.ParseRegistry("registry.example.com/openstack")
	for _, s := range imageref.Strategies {
		target, _ := imageref.Rewrite(src, reg, s)
		fmt.Println(s, target)
	}
	// Output:
	// flatten registry.example.com/openstack/ceph:v18
	// path registry.example.com/openstack/ceph/ceph:v18
	// scoped registry.example.com/openstack/quay.io/ceph/ceph:v18
}
