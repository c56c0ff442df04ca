package convert_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/imageops/cloud/gomodules/convert"
)

func ExampleConvert() {
	dir, _ := os.MkdirTemp("", "convert-example-")
	defer os.RemoveAll(dir)
	src, dest := filepath.Join(dir, "blank.img"), filepath.Join(dir, "blank.qcow2")
	// A blank 16 MiB raw disk.
	if err := exec.Command("qemu-img", "create", "-q", "-f", "raw", src, "16M").Run(); err != nil {
		fmt.Println(err)
		return
	}

	req := convert.Request{Src: src, Dest: dest, DestFormat: "qcow2"}
	for i := 0; i < 2; i++ {
		res, err := convert.Convert(context.Background(), req)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("changed=%v %s -> %s, %d bytes\n", res.Changed, res.SrcFormat, res.Format, res.VirtualSize)
	}
	// Output:
	// changed=true raw -> qcow2, 16777216 bytes
	// changed=false raw -> qcow2, 16777216 bytes
}

func ExampleDestFormats() {
	fmt.Println(convert.DestFormats())
	fmt.Println(convert.CanonicalFormat("vhd"))
	// Output:
	// [raw qcow2 qed vdi vhdx vmdk vpc vhd]
	// vpc
}
