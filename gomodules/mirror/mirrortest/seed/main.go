// Command seed pushes test images built from real files to a registry and
// prints, as YAML, a dict of names to their references, for the integration
// suite and the benchmark:
//
//	go run ./gomodules/mirror/mirrortest/seed -registry 127.0.0.1:5000 \
//	    -distinct 20 -multi 5 -names 30 -pinned 2 > images.yml
//
// The first -multi images are three-platform indexes; the first -pinned
// names are written as tag@digest; names beyond -distinct are aliases of the
// distinct images (image03_alias -> the same reference as image03). The
// registry must accept anonymous pushes over plain HTTP (127.0.0.1 uses HTTP).
//
// With -shape atmosphere it pushes instead the set in the shape of VEXXHOST
// Atmosphere's image dict (mirrortest.AtmosphereSet: 232 names over 129
// references, shared base layers, multi-platform indexes), its distinct
// layers totalling -mib MiB, and prints the dict in the set's order:
//
//	go run ./gomodules/mirror/mirrortest/seed -registry 127.0.0.1:5000 \
//	    -shape atmosphere -mib 2048 > images.yml
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"gopkg.in/yaml.v2"

	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run() error {
	registry := flag.String("registry", "", "registry host:port to push to (required)")
	distinct := flag.Int("distinct", 20, "number of distinct images")
	multi := flag.Int("multi", 5, "how many of them are multi-platform indexes")
	names := flag.Int("names", 30, "number of names (>= distinct; the rest are aliases)")
	pinned := flag.Int("pinned", 1, "how many names are written as tag@digest")
	varName := flag.String("var", "container_images", "top-level key of the YAML printed")
	shape := flag.String("shape", "", `"atmosphere" for Atmosphere's image dict (then -distinct, -multi, -names and -pinned do not apply)`)
	mib := flag.Float64("mib", 1024, "with -shape atmosphere: total MiB of the distinct layers")
	jobs := flag.Int("jobs", 4, "with -shape atmosphere: images pushed at once")
	flag.Parse()
	switch {
	case *shape == "atmosphere" && *registry != "":
		return seedAtmosphere(*registry, *mib, *jobs, *varName)
	case *shape != "" && *shape != "atmosphere":
		return fmt.Errorf("-shape %q: expected atmosphere", *shape)
	case *registry == "":
		return fmt.Errorf("-registry is required")
	case *distinct < 1 || *names < *distinct || *multi > *distinct || *pinned > *distinct:
		return fmt.Errorf("need 1 <= distinct <= names, multi <= distinct, pinned <= distinct")
	}
	platforms := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}, {OS: "linux", Architecture: "ppc64le"}}
	files := mirrortest.RealFiles()
	ctx := context.Background()
	refs := make([]string, *distinct)
	for i := range refs {
		salt := fmt.Sprintf("seed-%02d", i)
		var t remote.Taggable
		var err error
		if i < *multi {
			t, err = mirrortest.Index(salt, platforms, files...)
		} else {
			t, err = mirrortest.Image(platforms[0], salt, files...)
		}
		if err != nil {
			return err
		}
		ref := fmt.Sprintf("%s/group%d/image%02d:v%d", *registry, i%3, i, 1+i%2)
		digest, err := mirrortest.Push(ctx, ref, t)
		if err != nil {
			return err
		}
		if i < *pinned {
			ref += "@" + digest
		}
		refs[i] = ref
	}
	images := yaml.MapSlice{}
	for i := 0; i < *names; i++ {
		key := fmt.Sprintf("image%02d", i)
		if i >= *distinct {
			key = fmt.Sprintf("image%02d_alias", i%*distinct)
		}
		images = append(images, yaml.MapItem{Key: key, Value: refs[i%*distinct]})
	}
	return printYAML(*varName, images)
}

// seedAtmosphere pushes the Atmosphere-shaped set and prints its dict.
func seedAtmosphere(registry string, mib float64, jobs int, varName string) error {
	set, err := mirrortest.AtmosphereSet(mib)
	if err != nil {
		return err
	}
	refs, err := set.Push(context.Background(), registry, jobs)
	if err != nil {
		return err
	}
	images := yaml.MapSlice{}
	for _, n := range set.OrderedNames() {
		images = append(images, yaml.MapItem{Key: n, Value: refs[n]})
	}
	return printYAML(varName, images)
}

func printYAML(varName string, images yaml.MapSlice) error {
	out, err := yaml.Marshal(yaml.MapSlice{{Key: varName, Value: images}})
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
